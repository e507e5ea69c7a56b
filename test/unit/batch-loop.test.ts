/** The batch loop (src/consumer/batch-loop.ts) with a fake infer and a fake clock: when batches start, what they take, how each request leaves. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BatchLoop } from "../../src/consumer/batch-loop.ts";
import type { Job } from "../../src/consumer/job.ts";
import type { Answering } from "../../src/consumer/verdicts.ts";
import { ErrorCode, OfaError } from "../../src/protocol/index.ts";
import { FakeClock, FakeInfer, newMetrics, preparedJob, silentLogger } from "./consumer-fakes.ts";

/** Lets promise callbacks (the loop's `.finally`, settlements) run. */
const settle = () => new Promise((r) => setImmediate(r));

function newLoop(opts: { maxBatch?: number; delayMs?: number } = {}) {
  const clock = new FakeClock();
  const model = new FakeInfer();
  const answered: { job: Job; answering: Answering }[] = [];
  const failed: { job: Job; error: unknown }[] = [];
  const loop = new BatchLoop({
    infer: model.infer,
    clock,
    maxBatch: opts.maxBatch ?? 4,
    maxBatchDelayMs: opts.delayMs ?? 20,
    answered: async (job, answering) => void answered.push({ job, answering }),
    failed: async (job, error) => void failed.push({ job, error }),
    metrics: newMetrics(),
    logger: silentLogger,
  });
  return { clock, model, loop, answered, failed };
}

test("batch loop - a partial batch waits for the delay, and not a millisecond more", async () => {
  const { clock, model, loop, answered } = newLoop({ maxBatch: 4, delayMs: 20 });
  loop.push(preparedJob("interactive"));
  clock.advance(10);
  loop.push(preparedJob("interactive"));
  clock.advance(9);
  assert.equal(model.calls.length, 0, "19 ms after the first request: still waiting for more");
  clock.advance(1);
  assert.equal(model.calls.length, 1, "20 ms after the first request: runs with what it has");
  assert.deepEqual(model.rowsOf(0), [1, 1]);
  model.answer(0);
  await settle();
  assert.equal(answered.length, 2);
  assert.equal(answered[0]!.answering.batchWaitMs, 20);
  assert.equal(answered[1]!.answering.batchWaitMs, 10);
});

test("batch loop - a full batch starts at once", () => {
  const { model, loop } = newLoop({ maxBatch: 2, delayMs: 1_000 });
  loop.push(preparedJob("interactive"));
  assert.equal(model.calls.length, 0);
  loop.push(preparedJob("interactive"));
  assert.equal(model.calls.length, 1);
});

test("batch loop - a request whose deadline passed while it waited is answered with OFA_ERR_DEADLINE_EXCEEDED, without inference", async () => {
  const { clock, model, loop, failed, answered } = newLoop({ maxBatch: 4, delayMs: 20 });
  const late = preparedJob("interactive", 1, 0, 5);
  loop.push(late);
  clock.advance(20);
  await settle();
  assert.equal(model.calls.length, 0, "no inference for an expired request");
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.job, late);
  assert.ok(failed[0]!.error instanceof OfaError);
  assert.equal((failed[0]!.error as OfaError).code, ErrorCode.DEADLINE_EXCEEDED);
  assert.equal(answered.length, 0);
  assert.equal(loop.queueDepths.batching, 0);
});

test("batch loop - an expired request is dropped from the batch, the others run", async () => {
  const { clock, model, loop, failed, answered } = newLoop({ maxBatch: 4, delayMs: 20 });
  loop.push(preparedJob("interactive", 1, 0, 5));
  loop.push(preparedJob("interactive", 1, 0, 60_000));
  clock.advance(20);
  assert.deepEqual(model.rowsOf(0), [1], "only the live request runs");
  model.answer(0);
  await settle();
  assert.equal(failed.length, 1);
  assert.equal(answered.length, 1);
});

test("batch loop - a failed inference settles every request of the batch exactly once, a list taken in part included", async () => {
  const { model, loop, failed, answered } = newLoop({ maxBatch: 4, delayMs: 0 });
  const list = preparedJob("interactive", 6); // 6 rows: 4 in this run, 2 left for the next
  const single = preparedJob("interactive");
  loop.push(list);
  loop.push(single);
  assert.deepEqual(model.rowsOf(0), [4], "the list fills the batch");
  model.fail(0, new Error("session.run: out of memory"));
  await settle();
  await settle();
  // The single request then runs on its own; the list is not run again.
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.job, list);
  assert.equal((failed[0]!.error as OfaError).code, ErrorCode.MODEL_RUN, "a plain Error becomes OFA_ERR_MODEL_RUN");
  assert.equal(model.calls.length, 2);
  assert.deepEqual(model.rowsOf(1), [1]);
  model.fail(1, new Error("again"));
  await settle();
  assert.equal(failed.length, 2);
  assert.deepEqual(new Set(failed.map((f) => f.job)), new Set([list, single]));
  assert.equal(answered.length, 0);
  assert.equal(loop.queueDepths.batching, 0, "nothing of the failed batch stays queued");
  assert.equal(model.calls.length, 2);
});

test("batch loop - a failed batch of several requests fails each of them once", async () => {
  const { model, loop, failed } = newLoop({ maxBatch: 4, delayMs: 0 });
  model.auto = new Error("boom");
  const jobs = [preparedJob("interactive", 2), preparedJob("bulk"), preparedJob("interactive")];
  for (const j of jobs) loop.push(j);
  await settle();
  await settle();
  const counts = new Map<Job, number>();
  for (const f of failed) counts.set(f.job, (counts.get(f.job) ?? 0) + 1);
  assert.deepEqual([...counts.values()], [1, 1, 1], "each request failed exactly once");
  assert.equal(counts.size, 3);
});

test("batch loop - a long list runs over several batches and is answered once, after its last row", async () => {
  const { model, loop, answered } = newLoop({ maxBatch: 4, delayMs: 0 });
  model.auto = "answer";
  const list = preparedJob("interactive", 10);
  loop.push(list);
  for (let i = 0; i < 5; i++) await settle();
  assert.deepEqual(model.calls.map((_, i) => model.rowsOf(i)), [[4], [4], [2]]);
  assert.equal(answered.length, 1);
  assert.equal(answered[0]!.answering.batchSize, 2, "the run that answered its last rows");
});

test("batch loop - a steady interactive stream never starves bulk: every batch has a bulk row while bulk waits", async () => {
  const { model, loop, answered } = newLoop({ maxBatch: 4, delayMs: 0 });
  const bulk = [preparedJob("bulk"), preparedJob("bulk")];
  for (let i = 0; i < 12; i++) loop.push(preparedJob("interactive"));
  assert.equal(model.calls.length, 1, "the first full batch started before bulk arrived");
  for (const b of bulk) loop.push(b);
  model.answer(0);
  await settle();
  model.answer(1);
  await settle();
  model.answer(2);
  await settle();
  assert.equal(model.calls.length, 4);
  const bulkAnswered = answered.filter((a) => a.job.lane === "bulk").length;
  assert.equal(bulkAnswered, 2, "both bulk requests ran in the two batches after they arrived, with interactive still waiting");
  assert.ok(loop.queueDepths.batching > 0, "interactive requests were still waiting");
});
