import { test } from "node:test";
import assert from "node:assert/strict";
import { runLoad } from "../../loadgen/index.ts";
import { SMALL_IMAGES, startStack } from "./fixtures/stack.ts";
import { SERVICE_MS, assertServiceTimePercentiles } from "./fixtures/tolerances.ts";

test("loadgen open - a fixed arrival rate sends exactly rate × duration and measures the service time", async (t) => {
  const { url, responder } = await startStack(t, { serviceMs: SERVICE_MS });
  const report = await runLoad({ natsUrl: url, ratePerSec: 100, durationMs: 3000, timeoutMs: 5000, images: SMALL_IMAGES, seed: 7 });
  const l = report.summary.latency;
  t.diagnostic(`open: ${report.accounting.sent} requests, p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms, send lag p99 ${report.summary.sendLag.p99Ms} ms`);

  assert.equal(report.accounting.sent, 300, "100/s for 3 s is 300 schedule slots, all sent");
  assert.ok(report.accounting.holds, "sent = ok + errored + timed out, none in flight");
  assert.equal(report.accounting.ok, 300);
  assert.equal(responder.answered, 300);
  assert.equal(report.phases[0]!.dropped, 0);
  assert.equal(report.config.latencyFrom, "intended send time (schedule slot)");
  assertServiceTimePercentiles(l);
});

test("loadgen open - warmup requests are accounted for but left out of the statistics", async (t) => {
  const { url } = await startStack(t, { serviceMs: 10 });
  const report = await runLoad({ natsUrl: url, ratePerSec: 40, durationMs: 1000, warmupMs: 500, timeoutMs: 5000, images: SMALL_IMAGES });
  assert.equal(report.accounting.sent, 40, "all 40 slots sent");
  assert.ok(report.accounting.holds);
  // Slots at 0, 25, …, 475 ms fall in the warmup; 500 … 975 ms are measured.
  assert.equal(report.summary.counts.sent, 20);
  assert.equal(report.summary.latency.count, 20);
});

test("loadgen open - a request budget stops the schedule early and ends the phase", async (t) => {
  const { url, responder } = await startStack(t, { serviceMs: 10 });
  const report = await runLoad({ natsUrl: url, ratePerSec: 50, durationMs: 20_000, timeoutMs: 5000, images: SMALL_IMAGES, maxRequests: 20 });
  assert.equal(report.accounting.sent, 20, "20 of the 1000 slots, then the budget is spent");
  assert.ok(report.accounting.holds);
  assert.equal(responder.answered, 20);
  assert.ok(report.phases[0]!.measuredMs < 20_000, "the phase ended with its budget, not after 20 s");
});
