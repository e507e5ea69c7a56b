/**
 * From raw observations to the numbers in the table. Kept apart from the measuring code so the rules (which part
 * of a run counts as steady state) are stated once.
 */

/** What the load process saw of each ok verdict, in arrival order (bench/load.ts). */
export interface VerdictTrace {
  readonly completionsMs: readonly number[];
  readonly inferenceMs: readonly number[];
  readonly batchSizes: readonly number[];
}

export interface Throughput {
  readonly perSec: number;
  /** Verdicts inside the steady window the rate was computed on. */
  readonly counted: number;
  readonly windowMs: number;
  /**
   * Share of the steady window the service spent in session.run (summed over workers): each verdict contributes its
   * batch's run time ÷ batch size. With one worker, 1 − this is the time the model sat waiting for the service.
   */
  readonly inferenceBusy: number;
  /** Batch mode only (see batchThroughput): per timed batch, its cycle, its size, and its gap. */
  readonly batches?: readonly TimedBatch[];
}

/** One batch of a batch-mode run: from the previous batch's verdicts to its own. */
interface TimedBatch {
  readonly cycleMs: number;
  readonly size: number;
  /** cycleMs minus the batch's own session.run: the time between two runs, all of it the service's. */
  readonly gapMs: number;
}

/**
 * Throughput over the steady part of a saturation run, from verdict arrival times (ascending, ms).
 * Start-up (pulls ramping, arenas growing, JIT) and the final drain are not steady state, so `trim` of the verdicts
 * are dropped at each end.
 */
export function steadyThroughput(trace: VerdictTrace, trim: number): Throughput {
  const times = trace.completionsMs;
  if (times.length < 2) return { perSec: 0, counted: 0, windowMs: 0, inferenceBusy: 0 };
  // Thousands of verdicts: where a window edge cuts a batch moves the rate by one batch in thousands, inside the noise.
  let first = Math.floor(times.length * trim);
  let last = times.length - 1 - Math.floor(times.length * trim);
  if (last <= first) [first, last] = [0, times.length - 1];
  const windowMs = times[last]! - times[first]!;
  let inferenceSum = 0;
  for (let i = first + 1; i <= last; i++) inferenceSum += (trace.inferenceMs[i] ?? 0) / Math.max(1, trace.batchSizes[i] ?? 1);
  return {
    perSec: windowMs > 0 ? ((last - first) * 1000) / windowMs : 0,
    counted: last - first,
    windowMs,
    inferenceBusy: windowMs > 0 ? inferenceSum / windowMs : 0,
  };
}

/**
 * Batch mode, for a handful of multi-second batches (OFA-large, one worker): verdicts are grouped into batches by
 * arrival gaps, the first `warmupBatches` are dropped (a fresh session's first runs are slow, as the raw loop's
 * warm-up runs are), and the rate counts full batches only — a partial batch happens at the edges of a finite backlog
 * (the first request ready before its batch-mate, the last one left over), never at true saturation.
 */
export function batchThroughput(trace: VerdictTrace, burstGapMs: number, warmupBatches: number): Throughput {
  const times = trace.completionsMs;
  const empty = { perSec: 0, counted: 0, windowMs: 0, inferenceBusy: 0, batches: [] };
  if (times.length < 2) return empty;
  let start = burstEnd(times, 0, burstGapMs);
  for (let k = 1; k < warmupBatches && start + 1 < times.length; k++) start = burstEnd(times, start + 1, burstGapMs);
  const ends = burstEnds(times, start, times.length - 1, burstGapMs);
  const batches = ends.slice(1).map((e, i) => {
    const cycleMs = times[e]! - times[ends[i]!]!;
    return { cycleMs, size: e - ends[i]!, gapMs: cycleMs - (trace.inferenceMs[e] ?? 0) };
  });
  const fullSize = Math.max(0, ...batches.map((b) => b.size));
  const full = batches.filter((b) => b.size === fullSize);
  const windowMs = full.reduce((a, b) => a + b.cycleMs, 0);
  const counted = full.reduce((a, b) => a + b.size, 0);
  if (windowMs <= 0) return empty;
  const inferenceSum = full.reduce((a, b) => a + b.cycleMs - b.gapMs, 0);
  return { perSec: (counted * 1000) / windowMs, counted, windowMs, inferenceBusy: inferenceSum / windowMs, batches };
}

/** Indices of the burst ends from `first` to `last` (both burst ends themselves). */
function burstEnds(times: readonly number[], first: number, last: number, gapMs: number): number[] {
  const ends = [first];
  for (let i = first + 1; i <= last; i = ends[ends.length - 1]! + 1) ends.push(burstEnd(times, i, gapMs));
  return ends;
}

/** Index of the last verdict of the burst that `i` belongs to (verdicts closer than gapMs are one burst). */
function burstEnd(times: readonly number[], i: number, gapMs: number): number {
  let j = Math.min(i, times.length - 1);
  while (j + 1 < times.length && times[j + 1]! - times[j]! < gapMs) j++;
  return j;
}

/** One reading of the counters while a saturation run is going. */
export interface CpuSample {
  readonly done: number;
  /** CPU seconds so far, per party (e.g. "workers", "supervisor", "nats-server"). */
  readonly cpu: Readonly<Record<string, number>>;
}

/** CPU ms per verdict per party, between the first sample past `trim` of the run and the last before `1 − trim`. */
export function cpuPerVerdict(samples: readonly CpuSample[], total: number, trim: number): Record<string, number> | undefined {
  const inside = samples.filter((s) => s.done >= total * trim && s.done <= total * (1 - trim));
  if (inside.length < 2) return undefined;
  const a = inside[0]!;
  const b = inside[inside.length - 1]!;
  const verdicts = b.done - a.done;
  if (verdicts <= 0) return undefined;
  const out: Record<string, number> = {};
  for (const party of Object.keys(b.cpu)) out[party] = (((b.cpu[party] ?? 0) - (a.cpu[party] ?? 0)) * 1000) / verdicts;
  return out;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
