import { test } from "node:test";
import assert from "node:assert/strict";
import { runLoad } from "../../loadgen/index.ts";
import { until } from "../harness/wait.ts";
import { SMALL_IMAGES, startStack } from "./fixtures/stack.ts";
import { SERVICE_MS, assertServiceTimePercentiles } from "./fixtures/tolerances.ts";

test("loadgen closed - users with think time see the responder's fixed service time in p50 and p99", async (t) => {
  const { url, responder } = await startStack(t, { serviceMs: SERVICE_MS });
  const report = await runLoad({
    natsUrl: url,
    users: 10,
    spawnRatePerSec: 100,
    thinkMs: { minMs: 20, maxMs: 40 },
    durationMs: 3000,
    timeoutMs: 5000,
    images: SMALL_IMAGES,
    seed: 7,
  });
  const l = report.summary.latency;
  t.diagnostic(`closed: ${report.accounting.sent} requests, p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms`);

  assert.ok(report.accounting.holds, "sent = ok + errored + timed out, none in flight");
  assert.equal(report.accounting.errored, 0);
  assert.equal(report.accounting.timedOut, 0);
  assert.equal(report.accounting.ok, report.accounting.sent);
  assert.equal(responder.answered, report.accounting.sent, "the responder answered exactly what was sent");
  assert.ok(report.accounting.sent >= 10, "every user sent at least once");
  assert.equal(report.config.model, "closed");
  assertServiceTimePercentiles(l);
});

test("loadgen closed - stopping early (Ctrl-C) stops sending, drains, and the books still balance", async (t) => {
  const { url, responder } = await startStack(t, { serviceMs: SERVICE_MS });
  const stop = new AbortController();
  const running = runLoad(
    { natsUrl: url, users: 5, spawnRatePerSec: 100, durationMs: 600_000, timeoutMs: 5000, images: SMALL_IMAGES },
    { signal: stop.signal },
  );
  await until(() => responder.answered >= 20, { name: "20 answers before stopping", timeoutMs: 10_000 });
  stop.abort();
  const report = await running;

  assert.ok(report.accounting.holds, "every request sent before the stop settled");
  assert.equal(report.accounting.inFlightAtEnd, 0);
  assert.equal(responder.answered, report.accounting.sent);
  assert.ok(report.phases[0]!.measuredMs < 600_000, "the phase ended at the stop, not after its 10 minutes");
});

test("loadgen closed - a request budget sends exactly that many, tells each settlement, and ends the phase at the last answer", async (t) => {
  const { url, responder } = await startStack(t, { serviceMs: SERVICE_MS });
  const settled: string[] = [];
  const report = await runLoad(
    { natsUrl: url, users: 8, spawnRatePerSec: 1000, durationMs: 20_000, timeoutMs: 5000, images: SMALL_IMAGES, maxRequests: 30 },
    { onSettled: (outcome) => settled.push(outcome.type) },
  );
  assert.equal(report.accounting.sent, 30, "the budget, not the 20 s, bounds what is sent");
  assert.ok(report.accounting.holds);
  assert.equal(responder.answered, 30);
  assert.deepEqual(settled, Array(30).fill("ok"), "onSettled hears every request once");
  assert.ok(report.phases[0]!.measuredMs < 20_000, "the phase ended at its last answer, not after 20 s");
});
