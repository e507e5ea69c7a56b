/**
 * The load side of a service case, as its own process (issue 6: the requests come from a separate process, and its
 * CPU is read from /proc apart from the service's). It is loadgen's `runLoad` with the bench's requests (the
 * photo-like JPEGs and hypotheses of fixtures.ts, inline as the SDK sends them), in two shapes:
 * - saturate: `window` closed-loop users, all started at once, no think time: each verdict releases the next request,
 *   so the backlog stays at `window` until `durationMs` or `maxCount` requests (loadgen's `maxRequests`);
 * - open: loadgen's open model, a fixed arrival rate, latency from each request's intended send time.
 * Beside loadgen's report it keeps what the throughput rules of stats.ts need: each ok verdict's arrival time, and its
 * batch's size and session.run time as the service reported them.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad, type LatencySummary, type LoadInput, type Outcome } from "../loadgen/index.ts";
import { childMain } from "./children.ts";
import { TEXTS, benchJpegs } from "./fixtures.ts";
import type { VerdictTrace } from "./stats.ts";

/** image: the size of the photo-like JPEGs sent (default 224², bench/fixtures.ts). */
export type LoadSpec = (
  | { readonly mode: "saturate"; readonly natsUrl: string; readonly window: number; readonly durationMs: number; readonly maxCount?: number; readonly timeoutMs: number }
  | { readonly mode: "open"; readonly natsUrl: string; readonly ratePerSec: number; readonly durationMs: number; readonly timeoutMs: number }
) & { readonly image?: { readonly width: number; readonly height: number } };

export interface LoadProgress {
  /** Requests settled so far (ok or not). */
  readonly done: number;
}

export interface LoadResult extends VerdictTrace {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Every failure by code (loadgen's counts; timeouts under OFA_ERR_TIMEOUT). */
  readonly failures: Record<string, number>;
  readonly latency: LatencySummary;
  /** This process's own CPU: it competes with the service for the same cores. */
  readonly publisherCpuMs: number;
  readonly wallMs: number;
}

const PROGRESS_EVERY_MS = 250;
/** Loadgen starts closed-loop users at a spawn rate; saturation wants the whole window from the first moment. */
const ALL_AT_ONCE_PER_SEC = 1_000_000;

function inputOf(spec: LoadSpec, imageDir: string): LoadInput {
  const common: LoadInput = {
    natsUrl: spec.natsUrl,
    durationMs: spec.durationMs,
    timeoutMs: spec.timeoutMs,
    images: { kind: "dir", dir: imageDir },
    texts: { kind: "list", texts: TEXTS },
    uniqueImages: false, // the service under test runs with its verdict cache off
  };
  if (spec.mode === "open") return { ...common, ratePerSec: spec.ratePerSec };
  return { ...common, users: spec.window, spawnRatePerSec: ALL_AT_ONCE_PER_SEC, ...(spec.maxCount === undefined ? {} : { maxRequests: spec.maxCount }) };
}

async function main(spec: LoadSpec, progress: (p: LoadProgress) => void): Promise<LoadResult> {
  const imageDir = await mkdtemp(join(tmpdir(), "ofa-bench-images-"));
  const jpegs = await benchJpegs(undefined, spec.image?.width, spec.image?.height);
  await Promise.all(jpegs.map((jpeg, i) => writeFile(join(imageDir, `${i}.jpg`), jpeg)));
  const trace = { completionsMs: [] as number[], inferenceMs: [] as number[], batchSizes: [] as number[] };
  let done = 0;
  const t0 = performance.now();
  const onSettled = (outcome: Outcome) => {
    done += 1;
    if (outcome.type !== "ok") return;
    trace.completionsMs.push(performance.now() - t0);
    trace.inferenceMs.push(outcome.verdict.timings.inferenceMs);
    trace.batchSizes.push(outcome.verdict.batchSize);
  };
  const cpu0 = process.cpuUsage();
  const ticker = setInterval(() => progress({ done }), PROGRESS_EVERY_MS);
  try {
    const report = await runLoad(inputOf(spec, imageDir), { onSettled });
    progress({ done });
    const cpu = process.cpuUsage(cpu0);
    const a = report.accounting;
    return {
      ...trace,
      sent: a.sent,
      ok: a.ok,
      failed: a.errored + a.timedOut,
      failures: report.summary.counts.byCode,
      latency: report.summary.latency,
      publisherCpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: Date.parse(report.finishedAt) - Date.parse(report.startedAt),
    };
  } finally {
    clearInterval(ticker);
    await rm(imageDir, { recursive: true, force: true });
  }
}

childMain(main);
