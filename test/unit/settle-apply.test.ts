/** The settlement executor (src/consumer/settle-apply.ts) with a fake publisher and fake messages: publish, then exactly one ack / term / nak. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { jobFromMessage, type Job } from "../../src/consumer/job.ts";
import { Settler } from "../../src/consumer/settle-apply.ts";
import { answeredVerdict } from "../../src/consumer/verdicts.ts";
import { ErrorCode, OfaError, VerdictError } from "../../src/protocol/index.ts";
import { FakePublisher, answeredJob, fakeMsg, newMetrics, silentLogger, type FakeMsg } from "./consumer-fakes.ts";

const MODEL = { name: "fake", version: "0", meaningful: false };

function newSettler() {
  const publisher = new FakePublisher();
  const settled: Job[] = [];
  const deleted: string[] = [];
  const settler = new Settler({
    publisher,
    images: { delete: async (ref) => void deleted.push(ref.name) },
    cache: undefined,
    metrics: newMetrics(),
    logger: silentLogger,
    policy: { maxDeliver: 3, ackWaitMs: 30_000 },
    model: MODEL,
    worker: "w1",
    onSettled: (job) => void settled.push(job),
  });
  return { publisher, settler, settled, deleted };
}

const jobOf = (m: FakeMsg) => jobFromMessage(m.msg, "interactive", 0, []);

test("settler - an answered request: verdict published, then acked once, room given back", async () => {
  const { publisher, settler, settled } = newSettler();
  const m = fakeMsg();
  const job = answeredJob(m, { label: "no", scores: { yes: 0.1, no: 0.8, maybe: 0.1 } });
  const verdict = answeredVerdict(job, { batchSize: 3, inferenceMs: 12.345, cached: false, batchWaitMs: 4 }, { model: MODEL, worker: "w1", nowMs: 50 });
  await settler.settle(job, { kind: "answered", verdict });
  assert.equal(publisher.published.length, 1);
  const published = publisher.published[0]!;
  assert.ok(published.ok && "label" in published);
  assert.equal(published.label, "no");
  assert.equal(published.batchSize, 3);
  assert.equal(published.timings.inferenceMs, 12.35);
  assert.deepEqual(m.settlements(), ["ack"]);
  assert.deepEqual(settled, [job]);
});

test("settler - an answered request cannot be settled without its verdict, nor without its work (checked by tsc)", () => {
  const { settler } = newSettler();
  const m = fakeMsg();
  const verdict = answeredVerdict(answeredJob(m), { batchSize: 1, inferenceMs: 1, cached: false }, { model: MODEL, worker: "w1", nowMs: 0 });
  const neverCalled = () => {
    // @ts-expect-error an answered outcome carries the verdict its ack publishes
    void settler.settle(answeredJob(m), { kind: "answered" });
    // @ts-expect-error only an admitted job (its work exists) can be answered
    void settler.settle(jobOf(m), { kind: "answered", verdict });
  };
  assert.equal(typeof neverCalled, "function");
});

test("settler - bad input: error verdict, dead letter, term; never retried", async () => {
  const { publisher, settler, settled } = newSettler();
  const m = fakeMsg();
  const job = jobOf(m);
  await settler.settle(job, { kind: "failed", error: new VerdictError(ErrorCode.PAYLOAD_SCHEMA, "no text") });
  assert.deepEqual(m.settlements(), ["term"]);
  assert.equal(publisher.published.length, 1);
  assert.equal(publisher.published[0]!.ok, false);
  assert.deepEqual(publisher.deadLetters, [{ id: job.id, code: ErrorCode.PAYLOAD_SCHEMA }]);
  assert.deepEqual(settled, [job]);
});

test("settler - a transient failure is nak'ed with a delay, nothing published", async () => {
  const { publisher, settler, settled } = newSettler();
  const m = fakeMsg();
  const job = jobOf(m);
  await settler.settle(job, { kind: "failed", error: new OfaError(ErrorCode.MODEL_RUN, "oom") });
  assert.deepEqual(m.settlements(), ["nak:250"]);
  assert.equal(publisher.published.length, 0);
  assert.deepEqual(settled, [job]);
});

test("settler - an id conflict found at publish time terms the request with a dead letter", async () => {
  const { publisher, settler } = newSettler();
  publisher.outcome = () => "conflict";
  const m = fakeMsg();
  const job = answeredJob(m);
  const verdict = answeredVerdict(job, { batchSize: 1, inferenceMs: 1, cached: false }, { model: MODEL, worker: "w1", nowMs: 0 });
  await settler.settle(job, { kind: "answered", verdict });
  assert.deepEqual(m.settlements(), ["term"]);
  assert.deepEqual(publisher.deadLetters.map((d) => d.code), [ErrorCode.ID_CONFLICT]);
});

test("settler - publishing fails (broker gone): nak'ed for redelivery, never thrown, room given back", async () => {
  const { publisher, settler, settled } = newSettler();
  publisher.outcome = () => {
    throw Object.assign(new Error("timeout"), { name: "TimeoutError" });
  };
  const m = fakeMsg();
  const job = { ...jobOf(m), imageRef: { bucket: "ofa-images", name: "x" } };
  await settler.settle(job, { kind: "failed", error: new VerdictError(ErrorCode.PAYLOAD_SCHEMA, "bad") });
  assert.deepEqual(m.settlements(), ["nak:1000"]);
  assert.deepEqual(settled, [job]);
});

test("settler - a redelivered bad request whose verdict is already stored (its dead letter failed last time) is dead-lettered now, once", async () => {
  const { publisher, settler } = newSettler();
  publisher.outcome = () => "existing";
  const first = fakeMsg({ v: 1 }, 1);
  await settler.settle(jobOf(first), { kind: "failed", error: new VerdictError(ErrorCode.PAYLOAD_SCHEMA, "no text") });
  assert.deepEqual(publisher.deadLetters, [], "a repeat on its first delivery: the id's first request was dead-lettered then");
  const again = fakeMsg({ v: 1 }, 2);
  const job = jobOf(again);
  await settler.settle(job, { kind: "failed", error: new VerdictError(ErrorCode.PAYLOAD_SCHEMA, "no text") });
  assert.deepEqual(publisher.deadLetters, [{ id: job.id, code: ErrorCode.PAYLOAD_SCHEMA }]);
  assert.deepEqual(again.settlements(), ["term"]);
});
