/**
 * Latency histograms (hdr-histogram-js, a port of HdrHistogram). Values are recorded in microseconds
 * with 3 significant digits: any reported percentile is within 0.1% of the true recorded value
 * (e.g. ±50 µs at 50 ms, ±1 ms at 1 s). Nothing is rounded before percentiles are computed, unlike
 * Locust, which rounds response times to 10 ms / 100 ms / 1 s buckets first.
 */
import * as hdr from "hdr-histogram-js";
import type { Histogram } from "hdr-histogram-js";

/** Recorded unit and precision, written into every report so readers know the resolution. */
export const HISTOGRAM_RESOLUTION = Object.freeze({
  unit: "µs",
  significantDigits: 3,
  relativeError: 0.001,
  lowestDiscernibleUs: 1,
  library: "hdr-histogram-js 3.0.1",
});

/** The percentiles every summary carries, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** Latencies of one scope (run, phase, or one second of the timeline). */
export class LatencyHistogram {
  private readonly h: Histogram;

  /** `compact` uses the packed layout: smaller for the many one-second timeline windows, a bit slower. */
  constructor(compact = false) {
    this.h = hdr.build({
      bitBucketSize: compact ? "packed" : 32,
      lowestDiscernibleValue: HISTOGRAM_RESOLUTION.lowestDiscernibleUs,
      // One hour: far above any timeout; autoResize still guards a pathological value.
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: HISTOGRAM_RESOLUTION.significantDigits,
      autoResize: true,
    });
  }

  recordMs(latencyMs: number): void {
    this.h.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  /**
   * Latency at `percentile` (0–100) in ms; 0 when empty. HdrHistogram answers with the top of the
   * value's bucket, which can exceed the largest recorded value by up to 0.1%; clamp to that maximum
   * so that no report ever shows a p99 above its max.
   */
  atPercentileMs(percentile: number): number {
    if (this.h.totalCount === 0) return 0;
    return Math.min(this.h.getValueAtPercentile(percentile), this.h.maxValue) / 1000;
  }

  summary(): LatencySummary {
    const empty = this.h.totalCount === 0;
    return {
      count: this.h.totalCount,
      minMs: empty ? 0 : this.h.minNonZeroValue / 1000,
      meanMs: empty ? 0 : this.h.mean / 1000,
      p50Ms: this.atPercentileMs(50),
      p90Ms: this.atPercentileMs(90),
      p95Ms: this.atPercentileMs(95),
      p99Ms: this.atPercentileMs(99),
      p999Ms: this.atPercentileMs(99.9),
      maxMs: empty ? 0 : this.h.maxValue / 1000,
    };
  }

  /**
   * The percentile spectrum (the classic HdrHistogram plot): points spaced evenly on the axis
   * x = log10(1 / (1 − p)), from p = 0 up to the resolution the sample count supports.
   */
  spectrum(): Array<{ percentile: number; valueMs: number }> {
    if (this.h.totalCount === 0) return [];
    const xMax = Math.min(5, Math.max(1, Math.log10(this.h.totalCount)));
    const points: Array<{ percentile: number; valueMs: number }> = [];
    for (let x = 0; x <= xMax + 1e-9; x += 0.05) {
      const percentile = 100 * (1 - 10 ** -x);
      points.push({ percentile, valueMs: this.atPercentileMs(percentile) });
    }
    points.push({ percentile: 100, valueMs: this.h.maxValue / 1000 });
    return points;
  }

  /** Lossless, compressed export (HdrHistogram's standard base64 form) so a report can be re-analysed. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }
}
