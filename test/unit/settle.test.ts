import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, OfaError, VerdictError, type OkVerdict } from "../../src/protocol/index.ts";
import { decideSettlement, isTransient, retryDelayMs, settleAfterPublish } from "../../src/consumer/settle.ts";

const policy = { maxDeliver: 3, ackWaitMs: 2_000 };

const verdict = { v: 1, id: "x", ok: true, label: "yes" } as unknown as OkVerdict;

test("settle - an answered request is acked", () => {
  assert.deepEqual(decideSettlement({ kind: "answered", verdict }, 1, policy), { kind: "ack" });
  // An answered outcome without its verdict (nothing to publish before the ack) does not type-check (`npx tsc`).
  // @ts-expect-error the verdict is missing
  const noVerdict: Parameters<typeof decideSettlement>[0] = { kind: "answered" };
  assert.ok(noVerdict);
});

test("settle - bad input is final: term with a dead letter, whatever deliveries are left", () => {
  const s = decideSettlement({ kind: "failed", error: new VerdictError(ErrorCode.IMAGE_DECODE, "bad") }, 1, policy);
  assert.deepEqual(s, { kind: "term", code: ErrorCode.IMAGE_DECODE, message: "bad", deadLetter: true });
});

test("settle - a passed deadline is final but not a dead letter", () => {
  const s = decideSettlement({ kind: "failed", error: new VerdictError(ErrorCode.DEADLINE_EXCEEDED, "late") }, 1, policy);
  assert.equal(s.kind === "term" && s.deadLetter, false);
});

test("settle - transient failures are nak'ed with a growing delay until the last delivery, which is dead-lettered", () => {
  const boom = new OfaError(ErrorCode.MODEL_RUN, "onnxruntime exploded");
  assert.deepEqual(decideSettlement({ kind: "failed", error: boom }, 1, policy), { kind: "nak", delayMs: 250 });
  assert.deepEqual(decideSettlement({ kind: "failed", error: boom }, 2, policy), { kind: "nak", delayMs: 500 });
  const last = decideSettlement({ kind: "failed", error: boom }, 3, policy);
  assert.equal(last.kind, "term");
  assert.equal(last.kind === "term" && last.code, ErrorCode.MAX_DELIVERIES);
  assert.match(last.kind === "term" ? last.message : "", /onnxruntime exploded/);
  assert.equal(retryDelayMs(20, 2_000), 2_000, "capped at the ack wait");
});

test("settle - an exception that is not a known transient is final at once: OFA_ERR_INTERNAL with a dead letter, never nak'ed", () => {
  // Issue 10: a RangeError from a caller's absurd deadline used to be retried five times as if it were transient.
  for (const error of [new RangeError("Invalid time value"), new TypeError("x is undefined"), new Error("illegal subject"), "a string"]) {
    const s = decideSettlement({ kind: "failed", error }, 1, policy);
    assert.equal(s.kind, "term", String(error));
    assert.equal(s.kind === "term" && s.code, ErrorCode.INTERNAL);
    assert.equal(s.kind === "term" && s.deadLetter, true);
  }
});

test("settle - broker and timeout failures are transient, also as the cause of another error", () => {
  const timeout = Object.assign(new Error("timeout"), { name: "TimeoutError" });
  assert.equal(isTransient(timeout), true);
  assert.equal(isTransient(new Error("wrapped", { cause: timeout })), true);
  assert.equal(isTransient(Object.assign(new Error("reset"), { code: "ECONNRESET" })), true);
  assert.equal(isTransient(Object.assign(new Error("jetstream unavailable"), { name: "JetStreamApiError", status: 503 })), true);
  assert.equal(isTransient(Object.assign(new Error("bad request"), { name: "JetStreamApiError", status: 400 })), false);
  assert.deepEqual(decideSettlement({ kind: "failed", error: timeout }, 1, policy), { kind: "nak", delayMs: 250 });
});

test("settle - after publishing: a conflicting id is final and dead-lettered; the id's earlier verdict adds no second dead letter", () => {
  const term = { kind: "term" as const, code: ErrorCode.IMAGE_DECODE, message: "bad", deadLetter: true };
  assert.deepEqual(settleAfterPublish({ kind: "ack" }, "new"), { kind: "ack" });
  assert.deepEqual(settleAfterPublish({ kind: "ack" }, "existing"), { kind: "ack" });
  assert.deepEqual(settleAfterPublish(term, "existing"), { ...term, deadLetter: false });
  const conflict = settleAfterPublish({ kind: "ack" }, "conflict");
  assert.equal(conflict.kind === "term" && conflict.code, ErrorCode.ID_CONFLICT);
  assert.equal(conflict.kind === "term" && conflict.deadLetter, true);
});
