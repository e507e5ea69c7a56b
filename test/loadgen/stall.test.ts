import { test } from "node:test";
import assert from "node:assert/strict";
import { runLoad } from "../../loadgen/index.ts";
import { SMALL_IMAGES, startStack } from "./fixtures/stack.ts";
import { SERVICE_MS } from "./fixtures/tolerances.ts";

const STALL_MS = 1000;

/**
 * A 1 s freeze, about 1 s into a 4 s run at 100/s. Open model: the ~100 requests scheduled during the
 * freeze keep arriving and each waits for its end, so latencies spread over ~50..1050 ms for a quarter
 * of all requests: p90 lands inside the stall and p99 and max near its full length.
 * The bounds: ≥ 900 ms for p99 and ≥ 950 ms for max leave 50–100 ms for timer and histogram slack;
 * max ≤ stall + service + 300 ms says the stall was counted once, not twice.
 */
test("loadgen stall - a 1 s responder stall shows in the open model's p90, p99 and max", async (t) => {
  const { url, responder } = await startStack(t, { serviceMs: SERVICE_MS, stall: { afterRequests: 100, durationMs: STALL_MS } });
  const report = await runLoad({ natsUrl: url, ratePerSec: 100, durationMs: 4000, timeoutMs: 5000, images: SMALL_IMAGES });
  const l = report.summary.latency;
  t.diagnostic(`open + stall: p50 ${l.p50Ms} p90 ${l.p90Ms} p99 ${l.p99Ms} max ${l.maxMs} ms over ${l.count} requests`);

  assert.ok(responder.stallStartedAt !== undefined, "the stall happened");
  assert.ok(report.accounting.holds);
  assert.equal(report.accounting.ok, 400);
  assert.ok(l.p99Ms >= 900, `p99 ${l.p99Ms} ms shows the stall (≥ 900 ms)`);
  assert.ok(l.maxMs >= 950 && l.maxMs <= STALL_MS + SERVICE_MS + 300, `max ${l.maxMs} ms is about the stall`);
  assert.ok(l.p90Ms >= 400, `p90 ${l.p90Ms} ms is inside the stall (≥ 400 ms)`);
});

/**
 * Closed model, same stall: the 10 users are all blocked, so only ~10 requests of ~250 wait (the
 * generator stops sending while the service is stuck), and p90 stays near the service time.
 * The bound: p90 < 200 ms, i.e. nowhere near the stall, with the closed test's slack and more.
 */
test("loadgen stall - the closed model hides most of the same stall (coordinated omission)", async (t) => {
  const { url, responder } = await startStack(t, { serviceMs: SERVICE_MS, stall: { afterRequests: 100, durationMs: STALL_MS } });
  const report = await runLoad({
    natsUrl: url,
    users: 10,
    spawnRatePerSec: 100,
    thinkMs: { minMs: 50, maxMs: 100 },
    durationMs: 4000,
    timeoutMs: 5000,
    images: SMALL_IMAGES,
  });
  const l = report.summary.latency;
  t.diagnostic(`closed + stall: p50 ${l.p50Ms} p90 ${l.p90Ms} p99 ${l.p99Ms} max ${l.maxMs} ms over ${l.count} requests`);

  assert.ok(responder.stallStartedAt !== undefined, "the stall happened");
  assert.ok(report.accounting.holds);
  assert.ok(l.maxMs >= 900, `max ${l.maxMs} ms: the closed model does see the stalled requests themselves`);
  assert.ok(l.p90Ms < 200, `p90 ${l.p90Ms} ms stays near the service time`);
});
