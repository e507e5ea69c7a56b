/**
 * Counters that outlive their process. A worker's counters and histograms live in its registry and die with it;
 * summed over the live workers only, /metrics would fall at every restart or rollout, and Prometheus reads a fall as
 * a reset (rate() and increase() then over-count). The supervisor keeps each worker's last snapshot and, when the
 * worker is gone, adds its monotonic series (counters and histograms summed across processes) into these totals,
 * which the admin port merges like one more worker. Gauges are left out: a gone worker holds nothing.
 */
import type { MetricObjectWithValues, MetricValue } from "prom-client";

type Snapshot = MetricObjectWithValues<MetricValue<string>>[];
type Family = MetricObjectWithValues<MetricValue<string>>;

/** True for a family that only grows in one process and is summed across processes. */
function monotonic(family: Family): boolean {
  const type = String(family.type);
  return (type === "counter" || type === "histogram") && (family.aggregator ?? "sum") === "sum";
}

/** A snapshot's monotonic families only (what may be carried past its process's end). */
export function monotonicPart(snapshot: Snapshot): Snapshot {
  return snapshot.filter(monotonic);
}

function seriesKey(value: MetricValue<string>): string {
  const labels = Object.entries(value.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return `${(value as { metricName?: string }).metricName ?? ""}|${JSON.stringify(labels)}`;
}

export class CarriedTotals {
  private readonly families = new Map<string, { family: Family; series: Map<string, MetricValue<string>> }>();

  /** Adds a gone process's last snapshot (its gauges are ignored). */
  add(snapshot: Snapshot | undefined): void {
    for (const family of monotonicPart(snapshot ?? [])) {
      let kept = this.families.get(family.name);
      if (!kept) this.families.set(family.name, (kept = { family, series: new Map() }));
      for (const value of family.values) {
        const key = seriesKey(value);
        const before = kept.series.get(key);
        kept.series.set(key, { ...value, value: (before?.value ?? 0) + value.value });
      }
    }
  }

  /** The totals as one snapshot, in the form the admin port merges (empty when no process has gone yet). */
  snapshot(): Snapshot {
    return [...this.families.values()].map(({ family, series }) => ({ ...family, values: [...series.values()] }));
  }
}

/**
 * The last guard: a monotonic series never reads lower than it did at the previous scrape. Sums of floating-point
 * values taken in another order (a worker's counts moved into the carried totals) can differ in the last bit — seen:
 * ofa_nodejs_gc_duration_seconds_sum 0.012578183999983594 → …592 across a rollout — and Prometheus reads any fall as
 * a reset. Gauges pass untouched.
 */
export class MonotonicFloor {
  private readonly last = new Map<string, number>();

  apply(snapshot: Snapshot): Snapshot {
    return snapshot.map((family) => {
      if (!monotonic(family)) return family;
      const values = family.values.map((value) => {
        const key = `${family.name}|${seriesKey(value)}`;
        const floor = this.last.get(key) ?? -Infinity;
        const kept = value.value < floor ? { ...value, value: floor } : value;
        this.last.set(key, kept.value);
        return kept;
      });
      return { ...family, values };
    });
  }
}
