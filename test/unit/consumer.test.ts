/**
 * The whole consumer (src/consumer/consumer.ts) with its collaborators faked through ConsumerDeps: lanes that hand out
 * fake messages, a fake model, a fake publisher. Drain, heartbeats and batch failures as a worker sees them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EntailmentConsumer, type ConsumerSettings } from "../../src/consumer/consumer.ts";
import { HeldSet } from "../../src/consumer/held.ts";
import type { Lane } from "../../src/protocol/index.ts";
import { until } from "../harness/wait.ts";
import { FakeClock, FakeInfer, FakeLane, FakePublisher, fakeMsg, newMetrics, silentLogger } from "./consumer-fakes.ts";

const SETTINGS: ConsumerSettings = {
  workerName: "w1",
  maxBatch: 2,
  maxBatchDelayMs: 0,
  ackWaitMs: 30_000,
  maxDeliver: 3,
  maxImageBytes: 1 << 20,
  limits: { maxPayloadBytes: 1 << 20, maxTextChars: 1_000, maxHypotheses: 16 },
  replySubjects: [],
};
const WAIT = { timeoutMs: 10_000 };

function newConsumer(opts: { heartbeatMs?: number; settings?: Partial<ConsumerSettings>; clock?: FakeClock } = {}) {
  const lanes: Record<Lane, FakeLane> = { interactive: new FakeLane(), bulk: new FakeLane() };
  const model = new FakeInfer();
  const publisher = new FakePublisher();
  const consumer = new EntailmentConsumer({
    model: {
      info: { name: "fake", version: "0", meaningful: false },
      prepareImage: async () => new Float32Array(1),
      tokenize: () => [1, 2, 3],
      inferRows: async (groups) => ({ ...(await model.infer(groups)), logits: new Float32Array(0), columns: 3 }),
    },
    bindLane: async (lane) => lanes[lane].consumer,
    publisher,
    images: { read: async () => new Uint8Array(0), delete: async () => undefined },
    cache: undefined,
    logger: silentLogger,
    metrics: newMetrics(),
    settings: { ...SETTINGS, ...opts.settings },
    ...(opts.clock ? { clock: opts.clock } : {}),
    held: new HeldSet(opts.heartbeatMs ?? 60_000, () => undefined),
  });
  return { lanes, model, publisher, consumer };
}

test("consumer - drain lets held requests finish, publishes and acks them, then closes", async () => {
  const { lanes, model, publisher, consumer } = newConsumer();
  await consumer.start();
  const msgs = [fakeMsg(), fakeMsg()];
  lanes.interactive.deliver(...msgs);
  await until(() => model.calls.length === 1 && consumer.heldCount === 2, { name: "a batch runs, both held", ...WAIT });
  let done = false;
  const drained = consumer.drain(60_000).finally(() => (done = true));
  assert.equal(consumer.state, "draining");
  await new Promise((r) => setTimeout(r, 100)); // a negative check: a correct drain never ends before the model answers
  assert.equal(done, false, "drain waits for the held requests");
  model.auto = "answer"; // the next batches are answered at once
  model.answer(0);
  assert.equal(await drained, 0, "nothing left to redelivery");
  assert.equal(consumer.state, "closed");
  assert.deepEqual(msgs.map((m) => m.settlements()), [["ack"], ["ack"]]);
  assert.equal(publisher.published.length, 2);
  assert.equal(consumer.heldCount, 0);
  assert.equal(await consumer.drain(1), 0, "drain is idempotent");
});

test("consumer - a drain whose grace runs out hands the held requests back (nak) and reports them", async () => {
  const { lanes, model, consumer } = newConsumer();
  await consumer.start();
  const msgs = [fakeMsg(), fakeMsg(), fakeMsg()];
  lanes.interactive.deliver(...msgs);
  await until(() => model.calls.length === 1 && consumer.heldCount === 3, { name: "a batch runs, one request waits", ...WAIT });
  assert.equal(await consumer.drain(50), 3, "the model never answers: all three are left");
  assert.deepEqual(msgs.map((m) => m.settlements()), [["nak"], ["nak"], ["nak"]]);
  assert.equal(consumer.state, "closed");
});

test("consumer - held requests are heartbeated (working()) while they wait for the model, and no longer once settled", async () => {
  const { lanes, model, consumer } = newConsumer({ heartbeatMs: 10 });
  await consumer.start();
  const msgs = [fakeMsg(), fakeMsg(), fakeMsg()];
  lanes.interactive.deliver(...msgs);
  await until(() => msgs.every((m) => m.working() >= 3), { name: "three heartbeats each, in a running batch and waiting alike", ...WAIT });
  assert.deepEqual(msgs.map((m) => m.settlements()), [[], [], []]);
  assert.equal(model.calls.length, 1);
  const first = model.calls[0]!.groups.length;
  model.answer(0);
  await until(() => msgs.filter((m) => m.settlements().length === 1).length === first, { name: "the first batch settled", ...WAIT });
  const settled = msgs.find((m) => m.settlements().length === 1)!;
  const waiting = msgs.find((m) => m.settlements().length === 0)!;
  const beats = settled.working();
  await until(() => waiting.working() >= beats + 3, { name: "a request still held keeps beating", ...WAIT });
  assert.equal(settled.working(), beats, "a settled request is not heartbeated any more");
  model.auto = "answer";
  model.answer(1);
  assert.equal(await consumer.drain(60_000), 0);
  assert.ok(msgs.every((m) => m.settlements().length === 1));
});

test("consumer - a failed inference settles every request of the batch exactly once (nak: MODEL_RUN is retryable)", async () => {
  // A fake clock: the batch starts only when full (4 rows), so both requests are in it whatever order they are admitted.
  const { lanes, model, publisher, consumer } = newConsumer({ settings: { maxBatch: 4, maxBatchDelayMs: 20 }, clock: new FakeClock() });
  await consumer.start();
  const msgs = [fakeMsg(), fakeMsg({ v: 1, image: { data: "AAAA" }, hypotheses: ["a", "b", "c"] })];
  lanes.interactive.deliver(...msgs);
  await until(() => model.calls.length === 1, { name: "the batch runs", ...WAIT });
  assert.deepEqual(model.rowsOf(0).sort(), [1, 3], "one batch: the single request and the list's 3 rows");
  model.fail(0, new Error("session.run failed"));
  await until(() => msgs.every((m) => m.settlements().length > 0), { name: "both settled", ...WAIT });
  assert.deepEqual(msgs.map((m) => m.settlements()), [["nak:250"], ["nak:250"]]);
  assert.equal(publisher.published.length, 0);
  assert.equal(model.calls.length, 1, "nothing of the failed batch runs again in this worker");
  assert.equal(await consumer.drain(60_000), 0);
  assert.deepEqual(msgs.map((m) => m.settlements()), [["nak:250"], ["nak:250"]], "settled once: drain hands nothing back twice");
});

test("consumer - bad input is answered with an error verdict and termed, without inference", async () => {
  const { lanes, model, publisher, consumer } = newConsumer();
  await consumer.start();
  const bad = fakeMsg({ v: 1, image: { data: "AAAA" } });
  lanes.interactive.deliver(bad);
  await until(() => bad.settlements().length > 0, { name: "bad input settled", ...WAIT });
  assert.deepEqual(bad.settlements(), ["term"]);
  assert.equal(publisher.published[0]?.ok, false);
  assert.equal(model.calls.length, 0);
  assert.equal(await consumer.drain(60_000), 0);
});
