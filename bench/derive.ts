/**
 * The table rows, derived from the raw measurements: every ratio the issue asks for is computed here and only here,
 * so the JSON and the markdown cannot disagree.
 */
import type { LargeResults } from "./large.ts";
import type { BusOverhead, PrepareOverhead } from "./overhead.ts";
import type { RawLayoutResult } from "./raw-layout.ts";
import type { RawPoint } from "./raw-ort.ts";
import type { ServiceCaseResult } from "./service-case.ts";
import { mean, median, type Throughput } from "./stats.ts";
import { layoutName, type TinyResults } from "./tiny.ts";

/** The goals. */
export const GOALS = Object.freeze({ largeRatio: 0.97, busMsPerVerdict: 0.2 });

interface ThroughputRow {
  readonly model: string;
  readonly layout: string;
  readonly maxBatch: number;
  /** (a) samples/s of the raw loop(s) at batch = maxBatch. */
  readonly rawPerSec: number;
  /** (b) verdicts/s through NATS at saturation. */
  readonly servicePerSec: number;
  /** (c) b / a, each pooled over rounds. */
  readonly ratio: number;
  /** (c) from the median raw run and the median service batch-to-batch cycle: one slow batch cannot move it. */
  readonly medianRatio: number | undefined;
  /** (c) of each round alone, when there are several: the spread is the noise. */
  readonly roundRatios: readonly number[] | undefined;
  /** Mean size of the batches the service actually ran (from ofa_batch_size). */
  readonly realisedBatch: number;
  readonly rawRunMs: number;
  /** Mean session.run of the service (ofa_inference_seconds): above rawRunMs means CPU contention during inference. */
  readonly serviceRunMs: number;
  /** Fraction of the steady window the service's session(s) spent in session.run (summed over workers). */
  readonly inferenceBusy: number;
  /** OFA-large, one worker: median time between the end of one session.run and the next batch's verdicts minus its run. */
  readonly medianGapMs: number | undefined;
  /** 1-minute load average when the service case started. */
  readonly load: number;
  readonly goal: number | undefined;
}

interface OverheadRow {
  readonly what: string;
  readonly cpuMsPerVerdict: number;
  readonly goal: number | undefined;
  readonly note: string;
}

interface LatencyRow {
  readonly phase: string;
  readonly offeredPerSec: number;
  readonly achievedPerSec: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly failed: number;
  readonly meanBatch: number;
}

interface MemoryRow {
  readonly config: string;
  readonly supervisorMiB: number;
  readonly workersMiB: readonly number[];
  readonly totalMiB: number;
  /** Peak RSS of one raw-onnxruntime process with the same model: the floor a worker cannot go under. */
  readonly rawMiB: number;
}

interface BatchGainRow {
  readonly model: string;
  readonly maxBatch: number;
  readonly batch1PerSec: number;
  readonly batchedPerSec: number;
  readonly serviceGain: number;
  readonly rawGain: number;
}

export interface Derived {
  readonly throughput: readonly ThroughputRow[];
  readonly overhead: readonly OverheadRow[];
  readonly latency: readonly LatencyRow[];
  readonly memory: readonly MemoryRow[];
  readonly batchGain: readonly BatchGainRow[];
}

export interface Measured {
  readonly tiny: TinyResults | undefined;
  readonly large: LargeResults | undefined;
  readonly bus: readonly BusOverhead[];
  readonly prepare: readonly PrepareOverhead[];
}

const MiB = 1024 * 1024;

export function derive(m: Measured, defaultBatch: number): Derived {
  const throughput: ThroughputRow[] = [];
  if (m.tiny) {
    throughput.push(...throughputRows("tiny", m.tiny.raw, m.tiny.service, undefined));
    if (m.tiny.rawAltLayout && m.tiny.serviceAltLayout) throughput.push(...throughputRows("tiny", m.tiny.rawAltLayout, [m.tiny.serviceAltLayout], undefined));
  }
  if (m.large) throughput.push(...throughputRows("OFA-large shape", m.large.raw, m.large.service, GOALS.largeRatio));
  return {
    throughput,
    overhead: overheadRows(m, defaultBatch),
    latency: latencyRows(m.tiny, defaultBatch),
    memory: memoryRows(m),
    batchGain: batchGainRows(throughput),
  };
}

function rawAt(raw: RawLayoutResult, batch: number): RawPoint | undefined {
  return raw.points.find((p) => p.batch === batch);
}

function saturationOf(s: ServiceCaseResult) {
  return s.phases.find((p) => p.throughput !== undefined);
}

/** Raw points and service cases of one configuration, pooled over rounds (the OFA-large shape runs two). */
function throughputRows(model: string, raw: RawLayoutResult, cases: readonly ServiceCaseResult[], goal: number | undefined): ThroughputRow[] {
  const groups = new Map<string, ServiceCaseResult[]>();
  for (const c of cases) {
    const key = `${c.config.workers}x${c.config.intraOpThreads}-b${c.config.maxBatch}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((group) => pooledRow(model, raw.points.filter((p) => p.batch === group[0]!.config.maxBatch), group, goal));
}

function pooledRow(model: string, raws: readonly RawPoint[], cases: readonly ServiceCaseResult[], goal: number | undefined): ThroughputRow {
  const config = cases[0]!.config;
  const sats = cases.map(saturationOf);
  const thr = sats.map((s) => s?.throughput).filter((t): t is Throughput => t !== undefined);
  const rawPerSec = pooledRawRate(raws);
  const servicePerSec = sum(thr.map((t) => t.counted * 1000)) / Math.max(1e-9, sum(thr.map((t) => t.windowMs)));
  return {
    model,
    layout: layoutName({ workers: config.workers, intraOpThreads: config.intraOpThreads }),
    maxBatch: config.maxBatch,
    rawPerSec,
    servicePerSec,
    ratio: rawPerSec > 0 ? servicePerSec / rawPerSec : 0,
    medianRatio: config.workers === 1 ? medianRatio(raws, thr, config.maxBatch) : undefined,
    roundRatios: cases.length > 1 ? cases.map((_, i) => roundRatio(raws[i], thr[i])) : undefined,
    realisedBatch: mean(sats.map((s) => s?.server.meanBatchSize ?? 0)),
    rawRunMs: mean(raws.map((p) => p.meanRunMs)),
    serviceRunMs: mean(sats.map((s) => s?.server.meanInferenceMs ?? 0)),
    inferenceBusy: mean(thr.map((t) => t.inferenceBusy)),
    medianGapMs: config.workers === 1 && thr.some((t) => t.batches) ? median(thr.flatMap((t) => (t.batches ?? []).map((b) => b.gapMs))) : undefined,
    load: Math.max(...cases.map((c) => c.loadAtStart)),
    goal,
  };
}

/** Samples over time across every run of every round. */
function pooledRawRate(raws: readonly RawPoint[]): number {
  const samples = sum(raws.map((p) => p.batch * p.runs));
  const seconds = sum(raws.map((p) => (p.samplesPerSec > 0 ? (p.batch * p.runs) / p.samplesPerSec : 0)));
  return seconds > 0 ? samples / seconds : 0;
}

/** Median raw time per sample over median service time per verdict (full batches), when both are known batch by batch. */
function medianRatio(raws: readonly RawPoint[], thr: readonly Throughput[], batch: number): number | undefined {
  const runs = raws.flatMap((p) => p.runsMs ?? []);
  const full = thr.flatMap((t) => (t.batches ?? []).filter((b) => b.size === batch));
  if (runs.length === 0 || full.length === 0) return undefined;
  return median(runs) / batch / median(full.map((b) => b.cycleMs / b.size));
}

function roundRatio(raw: RawPoint | undefined, thr: Throughput | undefined): number {
  return raw && thr && raw.samplesPerSec > 0 ? thr.perSec / raw.samplesPerSec : 0;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function overheadRows(m: Measured, defaultBatch: number): OverheadRow[] {
  const rows: OverheadRow[] = [];
  for (const b of m.bus) {
    const note = `stub model, real consumer + nats-server, max batch ${b.maxBatch}, log level ${b.logLevel}, ${b.verdicts} verdicts`;
    rows.push({ what: `bus + protocol + batching (worker process, log ${b.logLevel})`, cpuMsPerVerdict: b.cpuMsPerVerdict.consumer ?? 0, goal: GOALS.busMsPerVerdict, note });
    if (b.logLevel === "info") {
      rows.push({ what: "nats-server (broker), same run", cpuMsPerVerdict: b.cpuMsPerVerdict["nats-server"] ?? 0, goal: undefined, note: "JetStream file store: request in, verdict in, acks" });
      rows.push({ what: "publisher process, same run", cpuMsPerVerdict: b.cpuMsPerVerdict.publisher ?? 0, goal: undefined, note: "the load generator's own cost on the same cores" });
    }
  }
  for (const p of m.prepare) {
    rows.push({
      what: `preprocessing 224² JPEG → ${p.imageSize}², ${p.resize} resizer (decode, resize, normalise, tokenise)`,
      cpuMsPerVerdict: p.cpuMsPerRequest,
      goal: undefined,
      note: `16 in flight; tokenisation alone ${p.tokeniseMs.toFixed(3)} ms`,
    });
  }
  const cross = serviceCrossCheck(m.tiny, defaultBatch);
  if (cross) rows.push(cross);
  return rows;
}

/** The real service's worker CPU per verdict minus the raw loop's CPU per sample at the batch size it ran. */
function serviceCrossCheck(tiny: TinyResults | undefined, defaultBatch: number): OverheadRow | undefined {
  const s = tiny?.service.find((c) => c.config.maxBatch === defaultBatch);
  const sat = s && saturationOf(s);
  if (!tiny || !sat?.cpuMsPerVerdict) return undefined;
  const realised = sat.server.meanBatchSize;
  const nearest = [...tiny.raw.points].sort((x, y) => Math.abs(x.batch - realised) - Math.abs(y.batch - realised))[0];
  if (!nearest) return undefined;
  const worker = sat.cpuMsPerVerdict.workers ?? 0;
  return {
    what: "cross-check: service worker CPU − raw onnxruntime CPU (everything outside the session, preprocessing included)",
    cpuMsPerVerdict: worker - nearest.cpuMsPerSample,
    goal: undefined,
    note: `worker ${worker.toFixed(3)} ms/verdict at realised batch ${realised.toFixed(1)}; raw ${nearest.cpuMsPerSample.toFixed(3)} ms/sample at batch ${nearest.batch}`,
  };
}

function latencyRows(tiny: TinyResults | undefined, defaultBatch: number): LatencyRow[] {
  const s = tiny?.service.find((c) => c.config.maxBatch === defaultBatch);
  if (!s) return [];
  return s.phases.map((p) => ({
    phase: p.name,
    offeredPerSec: p.ratePerSec ?? p.throughput?.perSec ?? 0,
    achievedPerSec: p.publisher.wallMs > 0 ? (p.publisher.ok * 1000) / p.publisher.wallMs : 0,
    p50Ms: p.publisher.latency.p50Ms,
    p95Ms: p.publisher.latency.p95Ms,
    p99Ms: p.publisher.latency.p99Ms,
    maxMs: p.publisher.latency.maxMs,
    failed: p.publisher.failed,
    meanBatch: p.server.meanBatchSize,
  }));
}

function memoryRows(m: Measured): MemoryRow[] {
  const rows: MemoryRow[] = [];
  const add = (model: string, s: ServiceCaseResult, raw: RawLayoutResult) => {
    const workers = s.memory.workerPeakRssBytes.map((b) => b / MiB);
    const config = `${model}, max batch ${s.config.maxBatch}, ${layoutName({ workers: s.config.workers, intraOpThreads: s.config.intraOpThreads })}`;
    const earlier = rows.findIndex((r) => r.config === config);
    const total = s.memory.supervisorPeakRssBytes / MiB + workers.reduce((a, b) => a + b, 0);
    if (earlier >= 0 && rows[earlier]!.totalMiB >= total) return; // another round of the same configuration
    if (earlier >= 0) rows.splice(earlier, 1);
    rows.push({
      config,
      supervisorMiB: s.memory.supervisorPeakRssBytes / MiB,
      workersMiB: workers,
      totalMiB: total,
      rawMiB: Math.max(...raw.loops.map((l) => l.peakRssBytes)) / MiB,
    });
  };
  if (m.tiny) for (const s of m.tiny.service) add("tiny", s, m.tiny.raw);
  if (m.tiny?.serviceAltLayout && m.tiny.rawAltLayout) add("tiny", m.tiny.serviceAltLayout, m.tiny.rawAltLayout);
  if (m.large) for (const s of m.large.service) add("OFA-large shape", s, m.large.raw);
  return rows;
}

/** From the pooled throughput rows: each batch limit against limit 1 of the same model and layout. */
function batchGainRows(rows: readonly ThroughputRow[]): BatchGainRow[] {
  const out: BatchGainRow[] = [];
  for (const row of rows.filter((r) => r.maxBatch > 1)) {
    const one = rows.find((r) => r.model === row.model && r.layout === row.layout && r.maxBatch === 1);
    if (!one) continue;
    out.push({
      model: row.model,
      maxBatch: row.maxBatch,
      batch1PerSec: one.servicePerSec,
      batchedPerSec: row.servicePerSec,
      serviceGain: one.servicePerSec > 0 ? row.servicePerSec / one.servicePerSec : 0,
      rawGain: one.rawPerSec > 0 ? row.rawPerSec / one.rawPerSec : 0,
    });
  }
  return out;
}
