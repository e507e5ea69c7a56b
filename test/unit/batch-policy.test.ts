import { test } from "node:test";
import assert from "node:assert/strict";
import { BULK_SHARE, ReadyQueue, batchDueInMs } from "../../src/consumer/batch-policy.ts";
import type { Lane } from "../../src/protocol/index.ts";

const item = (lane: Lane, readyAtMs = 0, n = 0) => ({ lane, readyAtMs, n });

test("batcher - a full batch starts at once, a partial one after the oldest waited maxBatchDelayMs", () => {
  assert.equal(batchDueInMs({ readyRows: 0, oldestReadyAtMs: undefined, maxBatch: 8, maxDelayMs: 5, nowMs: 100 }), Infinity);
  assert.equal(batchDueInMs({ readyRows: 8, oldestReadyAtMs: 99, maxBatch: 8, maxDelayMs: 5, nowMs: 100 }), 0);
  assert.equal(batchDueInMs({ readyRows: 3, oldestReadyAtMs: 98, maxBatch: 8, maxDelayMs: 5, nowMs: 100 }), 3);
  assert.equal(batchDueInMs({ readyRows: 3, oldestReadyAtMs: 90, maxBatch: 8, maxDelayMs: 5, nowMs: 100 }), 0, "requests that waited while the model was busy go straight in");
});

test("batcher - a partial batch waits a little for requests still being decoded, never longer than an inference", () => {
  assert.equal(batchDueInMs({ readyRows: 1, oldestReadyAtMs: 100, maxBatch: 2, maxDelayMs: 5, nowMs: 105 }), 0, "nothing on its way: go after the delay");
  assert.equal(batchDueInMs({ readyRows: 1, oldestReadyAtMs: 100, maxBatch: 2, maxDelayMs: 5, nowMs: 105, preparing: 1, recentRunMs: 2_000 }), 100, "a 2 s model waits up to 100 ms for the request being decoded");
  assert.equal(batchDueInMs({ readyRows: 1, oldestReadyAtMs: 100, maxBatch: 2, maxDelayMs: 5, nowMs: 105, preparing: 1, recentRunMs: 1.5 }), 1.5, "a 1.5 ms model waits at most 1.5 ms more");
  assert.equal(batchDueInMs({ readyRows: 2, oldestReadyAtMs: 100, maxBatch: 2, maxDelayMs: 5, nowMs: 100, preparing: 3, recentRunMs: 2_000 }), 0, "a full batch never waits");
});

test("batcher - interactive requests fill batches before bulk ones", () => {
  const q = new ReadyQueue<ReturnType<typeof item>>();
  q.push(item("bulk", 0, 1));
  for (let i = 0; i < 3; i++) q.push(item("interactive", 1, i));
  const batch = q.take(2);
  assert.deepEqual(batch.map((b) => b.lane), ["interactive", "interactive"]);
});

test("batcher - bulk is never starved: it gets about a quarter of the slots while interactive saturates", () => {
  const q = new ReadyQueue<ReturnType<typeof item>>();
  let bulkServed = 0;
  let served = 0;
  const queued = { interactive: 0, bulk: 0 };
  for (let round = 0; round < 100; round++) {
    // Both lanes stay saturated: 32 of each waiting before every batch.
    for (const lane of ["interactive", "bulk"] as const) while (queued[lane] < 32) (q.push(item(lane)), (queued[lane] += 1));
    const batch = q.take(8);
    for (const b of batch) queued[b.lane] -= 1;
    served += batch.length;
    bulkServed += batch.filter((b) => b.lane === "bulk").length;
  }
  assert.ok(Math.abs(bulkServed / served - BULK_SHARE) < 0.02, `bulk share ${bulkServed / served}`);
});

test("batcher - expired requests can be pulled out of the queue", () => {
  const q = new ReadyQueue<ReturnType<typeof item>>();
  q.push(item("interactive", 0, 1));
  q.push(item("bulk", 0, 2));
  q.push(item("interactive", 0, 3));
  assert.deepEqual(q.extract((x) => x.n !== 2).map((x) => x.n), [1, 3]);
  assert.equal(q.size, 1);
});
