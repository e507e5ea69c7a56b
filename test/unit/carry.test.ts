import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { CarriedTotals, MonotonicFloor } from "../../src/metrics/carry.ts";
import { createWorkerMetrics } from "../../src/metrics/definitions.ts";

async function workerSnapshot(verdicts: number, inFlight: number, seconds: number) {
  const registry = new Registry();
  const m = createWorkerMetrics(registry);
  m.verdicts.inc({ outcome: "ok", code: "none" }, verdicts);
  m.inFlight.set(inFlight);
  m.inference.observe(seconds);
  return registry.getMetricsAsJSON();
}

test("carry - gone workers' counters and histograms add up; their gauges are left out", async () => {
  const totals = new CarriedTotals();
  totals.add(await workerSnapshot(15, 3, 0.5));
  totals.add(await workerSnapshot(10, 2, 2));
  totals.add(undefined);
  const byName = new Map(totals.snapshot().map((f) => [f.name, f]));
  assert.equal(byName.get("ofa_verdicts_total")!.values.find((v) => v.labels.outcome === "ok")!.value, 25);
  assert.equal(byName.has("ofa_in_flight"), false, "no gauge is carried");
  const inference = byName.get("ofa_inference_seconds")!.values;
  assert.equal(inference.find((v) => (v as { metricName?: string }).metricName === "ofa_inference_seconds_count")!.value, 2);
  assert.equal(inference.find((v) => (v as { metricName?: string }).metricName === "ofa_inference_seconds_sum")!.value, 2.5);
  assert.equal(inference.find((v) => v.labels.le === 1)!.value, 1, "one observation ≤ 1 s");
});

test("carry - the floor keeps a counter from reading lower than before (a last-bit difference of a float sum), gauges pass", async () => {
  const floor = new MonotonicFloor();
  const first = floor.apply(await workerSnapshot(5, 4, 0.3));
  const lower = floor.apply(await workerSnapshot(4, 1, 0.1));
  const value = (s: typeof first, name: string) => s.find((f) => f.name === name)!.values[0]!.value;
  assert.equal(value(first, "ofa_verdicts_total"), 5);
  assert.equal(value(lower, "ofa_verdicts_total"), 5, "held at its floor");
  assert.equal(value(lower, "ofa_in_flight"), 1, "a gauge may fall");
  assert.equal(value(floor.apply(await workerSnapshot(7, 0, 0.1)), "ofa_verdicts_total"), 7, "and rises again");
});
