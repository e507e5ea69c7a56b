/**
 * The OFA-large-shaped model (random weights, real shapes: 480² images, ≈ 4 GB resident). One sample takes seconds
 * (≈ 2 s on the 2-core bench host, up to ≈ 16 s on slower or busier ones), so repetitions follow a time budget:
 * the raw loop runs until `secondsPerBatch`, and the service then gets as many timed batches as the raw loop fitted
 * in that time (2 to 10). Raw and service alternate per batch size, as for the tiny model; the raw process
 * exits before the service starts, so two OFA-large sessions never coexist.
 */
import { DEFAULT_BATCH_DELAY_MS, type LargePlan, type Plan } from "./plan.ts";
import { mergeRawLayouts, runRawLayout, type RawLayoutResult, type RawTiming } from "./raw-layout.ts";
import { runServiceCase, type PhasePlan, type ServiceCaseResult, type ServiceConfig } from "./service-case.ts";
import { layoutName } from "./tiny.ts";

export interface LargeResults {
  readonly raw: RawLayoutResult;
  readonly service: readonly ServiceCaseResult[];
}

/** Model load plus the smoke inference the service runs before it reports ready. */
const READY_TIMEOUT_MS = 600_000;
/** A backlog of several multi-second batches must not time out at the publisher. */
const LARGE_TIMEOUT_MS = 1_800_000;
/** Verdicts of one batch are published within milliseconds of each other; batches are seconds apart. */
const BURST_GAP_MS = 250;
const MIN_TIMED_BATCHES = 2;
const MAX_TIMED_BATCHES = 10;
/**
 * A fresh onnxruntime session runs its first runs slowly: the raw loop's first two runs here, and in the service one
 * run among the first five (the smoke inference plus four batches) about 25 % long, every time. Both sides drop their
 * warm-up, so the ratio compares steady states; the one-off cost per worker start does not recur.
 */
const RAW_WARMUP_RUNS = 2;
const SERVICE_WARMUP_BATCHES = 4;

export async function runLarge(plan: Plan, large: LargePlan, logDir: string, say: (line: string) => void): Promise<LargeResults> {
  const raws: RawLayoutResult[] = [];
  const service: ServiceCaseResult[] = [];
  const timing = { warmupRuns: RAW_WARMUP_RUNS, minRuns: 2, minSeconds: large.secondsPerBatch };
  for (let round = 1; round <= large.rounds; round++) {
    say(`OFA-large shape, round ${round} of ${large.rounds}`);
    for (const batch of large.batches) {
      const { raw, svc } = await measureBatch(plan, large, batch, timing, logDir, say);
      raws.push(raw);
      service.push(svc);
    }
  }
  return { raw: mergeRawLayouts(raws), service };
}

async function measureBatch(plan: Plan, large: LargePlan, batch: number, timing: RawTiming, logDir: string, say: (line: string) => void) {
  say(`(a) raw onnxruntime, OFA-large shape, ${layoutName(plan.layout)}, batch ${batch} (≈ ${large.secondsPerBatch} s after load and warm-up)`);
  const raw = await runRawLayout(large.modelDir, plan.layout, [batch], timing, logDir, `large-b${batch}`);
  const point = raw.points[0]!;
  const timed = Math.min(MAX_TIMED_BATCHES, Math.max(MIN_TIMED_BATCHES, Math.round((large.secondsPerBatch * 1000) / point.meanRunMs)));
  say(`    ${(point.meanRunMs / 1000).toFixed(2)} s per run; (b) service, max batch ${batch}, ${timed} timed batches after ${SERVICE_WARMUP_BATCHES} warm-up`);
  const svc = await runServiceCase(largeConfig(plan, large, batch), [saturation(batch, timed, plan.layout.workers)], logDir);
  return { raw, svc };
}

export function largeConfig(plan: Plan, large: LargePlan, maxBatch: number): ServiceConfig {
  return {
    label: `large-b${maxBatch}-${plan.layout.workers}x${plan.layout.intraOpThreads}`,
    modelDir: large.modelDir,
    workers: plan.layout.workers,
    intraOpThreads: plan.layout.intraOpThreads,
    maxBatch,
    maxBatchDelayMs: DEFAULT_BATCH_DELAY_MS,
    readyTimeoutMs: READY_TIMEOUT_MS,
  };
}

/** (warm-up + timed) full batches per worker, all published at once: the warm-up batches are dropped, the rest timed. */
export function saturation(maxBatch: number, timed: number, workers: number): PhasePlan {
  const count = maxBatch * (timed + SERVICE_WARMUP_BATCHES) * workers;
  return {
    name: "saturation",
    mode: "saturate",
    window: count,
    durationMs: LARGE_TIMEOUT_MS,
    maxCount: count,
    timeoutMs: LARGE_TIMEOUT_MS,
    steady: { burstGapMs: BURST_GAP_MS, warmupBatches: SERVICE_WARMUP_BATCHES },
  };
}
