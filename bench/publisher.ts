/**
 * The load side, as a separate process (the "requests published by a separate process"). Two shapes:
 * - saturate: keeps `window` requests outstanding (a new one for each verdict) until `durationMs` or `maxCount`,
 *   so the request stream never runs dry; records when each verdict arrived (throughput comes from those times);
 * - open: a fixed arrival rate whatever the service does (wrk2-style); each latency is measured from the request's
 *   intended send time, so a stall in the service or in this process is charged in full (no coordinated omission).
 */
import { randomBytes } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import * as hdr from "hdr-histogram-js";
import { childMain } from "./children.ts";
import { TEXTS, benchJpegs } from "./fixtures.ts";
import { RequestSender, type VerdictSummary } from "./requests.ts";

/** image: the size of the photo-like JPEGs sent (default 224², bench/fixtures.ts). */
export type PublisherSpec = (
  | { readonly mode: "saturate"; readonly natsUrl: string; readonly window: number; readonly durationMs: number; readonly maxCount: number; readonly timeoutMs: number }
  | { readonly mode: "open"; readonly natsUrl: string; readonly ratePerSec: number; readonly durationMs: number; readonly timeoutMs: number }
) & { readonly image?: { readonly width: number; readonly height: number } };

export interface PublisherProgress {
  /** Verdicts received so far (ok or not). */
  readonly done: number;
  readonly atMs: number;
}

interface Latency {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface PublisherResult {
  readonly mode: PublisherSpec["mode"];
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  /** Arrival time of each ok verdict, ms since the first request was sent, ascending. */
  readonly completionsMs: readonly number[];
  /** Per ok verdict, aligned with completionsMs: its batch's session.run time and size, as the service reported them. */
  readonly inferenceMs: readonly number[];
  readonly batchSizes: readonly number[];
  readonly latency: Latency;
  readonly meanBatchSize: number;
  readonly meanPreprocessMs: number;
  readonly meanBatchWaitMs: number;
  readonly meanInferenceMs: number;
  /** This process's own CPU: it competes with the service for the same cores. */
  readonly publisherCpuMs: number;
  readonly wallMs: number;
}

const PROGRESS_EVERY_MS = 250;

class Tally {
  readonly completionsMs: number[] = [];
  readonly inferenceMs: number[] = [];
  readonly batchSizes: number[] = [];
  readonly failures: Record<string, number> = {};
  readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  sent = 0;
  done = 0;
  private batchSum = 0;
  private preprocessSum = 0;
  private batchWaitSum = 0;
  private inferenceSum = 0;

  readonly t0: number;
  constructor(t0: number) {
    this.t0 = t0;
  }

  record(v: VerdictSummary, intendedAt: number): void {
    this.done += 1;
    const now = performance.now();
    if (!v.ok) {
      this.failures[v.code ?? "unknown"] = (this.failures[v.code ?? "unknown"] ?? 0) + 1;
      return;
    }
    this.completionsMs.push(now - this.t0);
    this.inferenceMs.push(v.inferenceMs);
    this.batchSizes.push(v.batchSize);
    this.histogram.recordValue(Math.max(1, Math.round((now - intendedAt) * 1000))); // µs
    this.batchSum += v.batchSize;
    this.preprocessSum += v.preprocessMs;
    this.batchWaitSum += v.batchWaitMs;
    this.inferenceSum += v.inferenceMs;
  }

  result(mode: PublisherSpec["mode"], cpu0: NodeJS.CpuUsage): PublisherResult {
    const ok = this.completionsMs.length;
    const cpu = process.cpuUsage(cpu0);
    const h = this.histogram;
    const at = (p: number) => (ok === 0 ? 0 : Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000);
    return {
      mode,
      sent: this.sent,
      ok,
      failed: this.done - ok,
      failures: this.failures,
      completionsMs: this.completionsMs,
      inferenceMs: this.inferenceMs,
      batchSizes: this.batchSizes,
      latency: { count: ok, meanMs: ok ? h.mean / 1000 : 0, p50Ms: at(50), p90Ms: at(90), p95Ms: at(95), p99Ms: at(99), maxMs: ok ? h.maxValue / 1000 : 0 },
      meanBatchSize: ok ? this.batchSum / ok : 0,
      meanPreprocessMs: ok ? this.preprocessSum / ok : 0,
      meanBatchWaitMs: ok ? this.batchWaitSum / ok : 0,
      meanInferenceMs: ok ? this.inferenceSum / ok : 0,
      publisherCpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: performance.now() - this.t0,
    };
  }
}

/** Closed window at the stream: each verdict releases the next request, so the backlog stays at `window`. */
async function saturate(sender: RequestSender, tally: Tally, spec: Extract<PublisherSpec, { mode: "saturate" }>): Promise<void> {
  const stopAt = tally.t0 + spec.durationMs;
  const lanes: Promise<void>[] = [];
  const lane = async (): Promise<void> => {
    while (tally.sent < spec.maxCount && performance.now() < stopAt) {
      tally.sent += 1;
      const sentAt = performance.now();
      tally.record(await sender.send(), sentAt);
    }
  };
  for (let i = 0; i < spec.window; i++) lanes.push(lane());
  await Promise.all(lanes);
}

/** Fixed arrival rate. Timers wake late by up to ~1 ms; the slots due by then all go at once and keep their intended times. */
async function open(sender: RequestSender, tally: Tally, spec: Extract<PublisherSpec, { mode: "open" }>): Promise<void> {
  const intervalMs = 1000 / spec.ratePerSec;
  const slots = Math.floor((spec.durationMs * spec.ratePerSec) / 1000);
  const answers: Promise<void>[] = [];
  let slot = 0;
  while (slot < slots) {
    const now = performance.now();
    for (; slot < slots && tally.t0 + slot * intervalMs <= now; slot++) {
      const intendedAt = tally.t0 + slot * intervalMs;
      tally.sent += 1;
      answers.push(sender.send().then((v) => tally.record(v, intendedAt)));
    }
    if (slot < slots) await sleep(tally.t0 + slot * intervalMs - performance.now());
  }
  await Promise.all(answers);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

async function main(spec: PublisherSpec, progress: (p: PublisherProgress) => void): Promise<PublisherResult> {
  const nc = await connect({ servers: spec.natsUrl, name: "ofa-bench-publisher" });
  const sender = new RequestSender(nc, await benchJpegs(undefined, spec.image?.width, spec.image?.height), TEXTS, randomBytes(4).toString("hex"), spec.timeoutMs);
  const cpu0 = process.cpuUsage();
  const tally = new Tally(performance.now());
  const ticker = setInterval(() => progress({ done: tally.done, atMs: performance.now() - tally.t0 }), PROGRESS_EVERY_MS);
  try {
    if (spec.mode === "saturate") await saturate(sender, tally, spec);
    else await open(sender, tally, spec);
  } finally {
    clearInterval(ticker);
    sender.close();
  }
  progress({ done: tally.done, atMs: performance.now() - tally.t0 });
  const result = tally.result(spec.mode, cpu0);
  await nc.drain();
  return result;
}

childMain(main);
