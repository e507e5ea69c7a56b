/**
 * One configuration of the real service, measured: a fresh nats-server, `ofa-entail serve` with the given layout and
 * batching, then one or more load phases from the load process (load.ts: loadgen's runLoad). While a phase runs, the
 * CPU time of every party (workers, supervisor, nats-server, the load process as "publisher") is read from /proc at
 * each of its progress ticks; RSS peaks come from VmHWM at the end.
 */
import { join } from "node:path";
import type { Precision } from "../src/model/index.ts";
import { NatsServer } from "../test/harness/nats-server.ts";
import { runChild } from "./children.ts";
import { cpuSeconds, loadAverage, memory } from "./proc.ts";
import type { LoadProgress, LoadResult, LoadSpec } from "./load.ts";
import { ServiceUnderTest, histogramTotals } from "./service.ts";
import { batchThroughput, cpuPerVerdict, steadyThroughput, type CpuSample, type Throughput } from "./stats.ts";

export interface ServiceConfig {
  readonly label: string;
  readonly modelDir: string;
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly maxBatch: number;
  readonly maxBatchDelayMs: number;
  readonly readyTimeoutMs: number;
  /** OFA_PRECISION (bench/int8.ts); the service default when absent. */
  readonly precision?: Precision;
}

/** A load phase; open-rate phases may depend on an earlier phase's result (e.g. 50 % of the measured saturation). */
export type PhasePlan =
  | {
      readonly name: string;
      readonly mode: "saturate";
      readonly window: number;
      readonly durationMs: number;
      /** At most this many requests (a fixed backlog); none: until durationMs. */
      readonly maxCount?: number;
      readonly timeoutMs: number;
      /** Steady-window trim (stats.steadyThroughput), or batch mode with this arrival gap (stats.batchThroughput). */
      readonly steady: { readonly trim: number } | { readonly burstGapMs: number; readonly warmupBatches: number };
      /** JPEG size to send (default: fixtures.ts's 224²). */
      readonly image?: { readonly width: number; readonly height: number };
    }
  | { readonly name: string; readonly mode: "open"; readonly rate: (earlier: readonly PhaseResult[]) => number; readonly durationMs: number; readonly timeoutMs: number };

export interface PhaseResult {
  readonly name: string;
  readonly publisher: LoadResult;
  readonly ratePerSec: number | undefined;
  readonly throughput: Throughput | undefined;
  /** CPU ms per verdict, per party, over the steady window (saturation phases only). */
  readonly cpuMsPerVerdict: Record<string, number> | undefined;
  /** Server-side means from /metrics over this phase (load start-up and drain included). */
  readonly server: { meanBatchSize: number; meanInferenceMs: number; meanPreprocessMs: number };
}

export interface ServiceCaseResult {
  readonly config: ServiceConfig;
  /** 1-minute load average when the case started: the neighbours' share of the machine. */
  readonly loadAtStart: number;
  readonly phases: readonly PhaseResult[];
  readonly readyMs: number;
  readonly memory: { readonly supervisorPeakRssBytes: number; readonly workerPeakRssBytes: readonly number[]; readonly workerRssBytes: readonly number[] };
}

export async function runServiceCase(config: ServiceConfig, phases: readonly PhasePlan[], logDir: string): Promise<ServiceCaseResult> {
  const loadAtStart = loadAverage();
  const nats = await NatsServer.start();
  const service = await ServiceUnderTest.start({ natsUrl: nats.url, env: serviceEnv(config), logFile: join(logDir, `${config.label}.service.log`) });
  try {
    const t0 = performance.now();
    await service.waitReady(config.readyTimeoutMs);
    const readyMs = performance.now() - t0;
    const pids = { workers: await service.workerPids(), supervisor: service.pid, nats: nats.pid ?? -1 };
    const results: PhaseResult[] = [];
    for (const plan of phases) results.push(await runPhase(plan, results, nats.url, pids, service, logDir, config.label));
    return { config, loadAtStart, phases: results, readyMs, memory: memoryOf(pids.workers, pids.supervisor) };
  } finally {
    await service.stop();
    await nats.stop();
  }
}

const PROFILE_HOOK = new URL("./cpu-profile-hook.mjs", import.meta.url).href;

/** BENCH_PROFILE_DIR: every service process (supervisor, workers) writes a .cpuprofile there on exit. */
function serviceEnv(c: ServiceConfig): Record<string, string> {
  const profiling = process.env.BENCH_PROFILE_DIR !== undefined;
  return {
    ...(profiling ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${PROFILE_HOOK}`.trim() } : {}),
    OFA_MODEL_DIR: c.modelDir,
    OFA_WORKERS: String(c.workers),
    OFA_INTRA_OP_THREADS: String(c.intraOpThreads),
    OFA_MAX_BATCH: String(c.maxBatch),
    OFA_MAX_BATCH_DELAY_MS: String(c.maxBatchDelayMs),
    ...(c.precision ? { OFA_PRECISION: c.precision } : {}),
  };
}

interface Pids {
  readonly workers: readonly number[];
  readonly supervisor: number;
  readonly nats: number;
}

async function runPhase(
  plan: PhasePlan,
  earlier: readonly PhaseResult[],
  natsUrl: string,
  pids: Pids,
  service: ServiceUnderTest,
  logDir: string,
  label: string,
): Promise<PhaseResult> {
  const before = await service.metricsText();
  const ratePerSec = plan.mode === "open" ? plan.rate(earlier) : undefined;
  const spec: LoadSpec =
    plan.mode === "saturate"
      ? { mode: "saturate", natsUrl, window: plan.window, durationMs: plan.durationMs, maxCount: plan.maxCount, timeoutMs: plan.timeoutMs, image: plan.image }
      : { mode: "open", natsUrl, ratePerSec: ratePerSec!, durationMs: plan.durationMs, timeoutMs: plan.timeoutMs };
  const child = runChild<LoadSpec, LoadProgress, LoadResult>("./load.ts", spec, { logFile: join(logDir, `${label}.load.log`) });
  const samples: CpuSample[] = [];
  child.onProgress((p) => samples.push({ done: p.done, cpu: cpuOf(pids, child.pid) }));
  const publisher = await child.result;
  const after = await service.metricsText();
  return {
    name: plan.name,
    publisher,
    ratePerSec,
    throughput: plan.mode === "saturate" ? throughputOf(publisher, plan.steady) : undefined,
    cpuMsPerVerdict: plan.mode === "saturate" && "trim" in plan.steady ? cpuPerVerdict(samples, publisher.ok + publisher.failed, plan.steady.trim) : undefined,
    server: serverSide(before, after),
  };
}

function throughputOf(publisher: LoadResult, steady: Extract<PhasePlan, { mode: "saturate" }>["steady"]): Throughput {
  return "trim" in steady ? steadyThroughput(publisher, steady.trim) : batchThroughput(publisher, steady.burstGapMs, steady.warmupBatches);
}

function cpuOf(pids: Pids, publisherPid: number): Record<string, number> {
  const sum = (list: readonly number[]) => list.reduce((a, pid) => a + (cpuSeconds(pid) ?? 0), 0);
  return { workers: sum(pids.workers), supervisor: sum([pids.supervisor]), "nats-server": sum([pids.nats]), publisher: sum([publisherPid]) };
}

function serverSide(before: string, after: string): PhaseResult["server"] {
  const delta = (name: string) => {
    const a = histogramTotals(before, name);
    const b = histogramTotals(after, name);
    return { sum: b.sum - a.sum, count: b.count - a.count };
  };
  const batch = delta("ofa_batch_size");
  const inference = delta("ofa_inference_seconds");
  const preprocess = delta("ofa_preprocess_seconds");
  return {
    meanBatchSize: batch.count ? batch.sum / batch.count : 0,
    meanInferenceMs: inference.count ? (inference.sum * 1000) / inference.count : 0,
    meanPreprocessMs: preprocess.count ? (preprocess.sum * 1000) / preprocess.count : 0,
  };
}

function memoryOf(workers: readonly number[], supervisor: number): ServiceCaseResult["memory"] {
  const ws = workers.map((pid) => memory(pid));
  return {
    supervisorPeakRssBytes: memory(supervisor)?.peakRssBytes ?? 0,
    workerPeakRssBytes: ws.map((m) => m?.peakRssBytes ?? 0),
    workerRssBytes: ws.map((m) => m?.rssBytes ?? 0),
  };
}
