import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, VerdictError } from "../../src/protocol/index.ts";
import { decideSettlement, retryDelayMs } from "../../src/consumer/settle.ts";

const policy = { maxDeliver: 3, ackWaitMs: 2_000 };

test("settle - an answered request is acked", () => {
  assert.deepEqual(decideSettlement({ kind: "answered" }, 1, policy), { kind: "ack" });
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
  const boom = new Error("onnxruntime exploded");
  assert.deepEqual(decideSettlement({ kind: "failed", error: boom }, 1, policy), { kind: "nak", delayMs: 250 });
  assert.deepEqual(decideSettlement({ kind: "failed", error: boom }, 2, policy), { kind: "nak", delayMs: 500 });
  const last = decideSettlement({ kind: "failed", error: boom }, 3, policy);
  assert.equal(last.kind, "term");
  assert.equal(last.kind === "term" && last.code, ErrorCode.MAX_DELIVERIES);
  assert.match(last.kind === "term" ? last.message : "", /onnxruntime exploded/);
  assert.equal(retryDelayMs(20, 2_000), 2_000, "capped at the ack wait");
});
