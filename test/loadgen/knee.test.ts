import { test } from "node:test";
import assert from "node:assert/strict";
import { findKnee, type StepPoint } from "../../loadgen/index.ts";

const step = (index: number, okPerSec: number, p95Ms: number, errorRate = 0, settled = 100): StepPoint => ({
  index, name: `${okPerSec}/s`, okPerSec, p95Ms, errorRate, settled,
});

test("loadgen knee - the highest throughput whose p95 stays within the SLO", () => {
  const knee = findKnee([step(0, 1, 120), step(1, 2, 150), step(2, 4, 300), step(3, 7.5, 900)], 420, 0.01);
  assert.equal(knee.index, 2);
  assert.equal(knee.okPerSec, 4);
  assert.equal(knee.p95Ms, 300);
  assert.deepEqual(knee.steps.map((s) => s.withinSlo), [true, true, true, false]);
  assert.match(knee.steps[3]!.reason ?? "", /p95 900\.0 ms > SLO 420 ms/);
});

test("loadgen knee - p95 exactly at the SLO still counts as within it", () => {
  assert.equal(findKnee([step(0, 3, 420)], 420, 0.01).index, 0);
});

test("loadgen knee - a fast step with too many errors cannot be the knee", () => {
  const knee = findKnee([step(0, 5, 100), step(1, 9, 80, 0.2)], 420, 0.01);
  assert.equal(knee.index, 0);
  assert.match(knee.steps[1]!.reason ?? "", /error rate 20\.00% > 1\.00%/);
});

test("loadgen knee - steps need not be monotone: the best passing throughput wins", () => {
  // Step 1 failed on noise, step 2 passed at a higher throughput.
  const knee = findKnee([step(0, 2, 100), step(1, 4, 500), step(2, 6, 400), step(3, 8, 2000)], 420, 0.01);
  assert.equal(knee.index, 2);
});

test("loadgen knee - past saturation, throughput is what is compared, not the offered rate", () => {
  // Offered rates rose, achieved throughput fell back once the service was overloaded.
  const knee = findKnee([step(0, 10, 100), step(1, 18, 380), step(2, 17, 410)], 420, 0.01);
  assert.equal(knee.index, 1);
});

test("loadgen knee - none when no step meets the SLO, or when a step settled nothing", () => {
  const knee = findKnee([step(0, 1, 500), step(1, 0, 0, 0, 0)], 420, 0.01);
  assert.equal(knee.index, undefined);
  assert.equal(knee.okPerSec, undefined);
  assert.equal(knee.steps[1]!.reason, "no measured request settled");
});
