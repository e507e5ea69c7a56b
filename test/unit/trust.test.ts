import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_REPLY_SUBJECTS, ErrorCode, MAX_DEADLINE_MS, VerdictError, isPublishSubject, parseDeadline,
  replyPatternProblem, replySubjectProblem, requestIdProblem, subjectMatches,
} from "../../src/protocol/index.ts";
import { loadConfig } from "../../src/config/index.ts";
import { publishFailureCode } from "../../src/errors/classify-nats.ts";

test("trust - reply subjects: only concrete, bounded subjects on the allow-list", () => {
  const allow = DEFAULT_REPLY_SUBJECTS;
  assert.equal(replySubjectProblem("_INBOX.abc.def", allow), undefined);
  for (const bad of ["$JS.API.STREAM.PURGE.OFA_VE_DLQ", "$KV.b.k", "$SYS.REQ.SERVER.PING", "ofa.ve.req.bulk", "ofa.ve.verdict.x", "_INBOX", "foo bar", "_INBOX.>", "_INBOX.*", "_INBOX..x", "", `_INBOX.${"r".repeat(300)}`]) {
    assert.notEqual(replySubjectProblem(bad, allow), undefined, bad);
  }
  assert.equal(isPublishSubject("a.b\tc"), false);
  assert.equal(subjectMatches("replies.*.x", "replies.a.x"), true);
  assert.equal(subjectMatches("replies.*.x", "replies.a.b.x"), false);
  assert.equal(subjectMatches("replies.>", "replies"), false);
});

test("trust - the allow-list itself cannot open system or service subjects", () => {
  assert.equal(replyPatternProblem("_INBOX.>"), undefined);
  assert.equal(replyPatternProblem("replies.team-a.>"), undefined);
  for (const bad of [">", "*.x", "$JS.>", "ofa.>", "a.>.b", "a b"]) assert.notEqual(replyPatternProblem(bad), undefined, bad);
  assert.throws(() => loadConfig({}, { OFA_REPLY_SUBJECTS: "_INBOX.>,$JS.API.>" }), /OFA_REPLY_SUBJECTS/);
  assert.deepEqual(loadConfig({}, { OFA_REPLY_SUBJECTS: "_INBOX.>, replies.>" }).replySubjects, ["_INBOX.>", "replies.>"]);
});

test("trust - ids: 1 to 128 characters without control characters", () => {
  assert.equal(requestIdProblem("a"), undefined);
  assert.equal(requestIdProblem("ü ñ 😀 a.b>*"), undefined, "any printable text; subjects hash what is not token-safe");
  assert.equal(requestIdProblem("x".repeat(128)), undefined);
  for (const bad of ["", "x".repeat(129), "tab\there", "nul\u0000", "del\u007f"]) assert.notEqual(requestIdProblem(bad), undefined, JSON.stringify(bad));
});

test("trust - deadlines: whole epoch milliseconds in range, else OFA_ERR_DEADLINE_INVALID (never a RangeError)", () => {
  assert.equal(parseDeadline(undefined, "h"), undefined);
  assert.equal(parseDeadline("", "h"), undefined);
  assert.equal(parseDeadline("1764547200000", "h"), 1764547200000);
  assert.equal(parseDeadline(1764547200000, "b"), 1764547200000);
  assert.equal(parseDeadline(String(MAX_DEADLINE_MS), "h"), MAX_DEADLINE_MS);
  for (const bad of ["-1e16", "-10000000000000000", "1e400", "abc", "1.5", " 12", "0x10", "99999999999999999", -1e16, 1.5, Infinity, NaN, MAX_DEADLINE_MS + 1]) {
    assert.throws(() => parseDeadline(bad as string | number, "h"), (e: unknown) => e instanceof VerdictError && e.code === ErrorCode.DEADLINE_INVALID, String(bad));
  }
});

test("trust - a full stream or store is OFA_ERR_OVERLOADED, an oversize message PAYLOAD_TOO_LARGE, the rest INTERNAL", () => {
  assert.equal(publishFailureCode(Object.assign(new Error("maximum bytes exceeded"), { code: 10078 })), ErrorCode.OVERLOADED);
  assert.equal(publishFailureCode(new Error("maximum messages exceeded")), ErrorCode.OVERLOADED);
  assert.equal(publishFailureCode(Object.assign(new Error("insufficient resources"), { code: 10023 })), ErrorCode.OVERLOADED);
  assert.equal(publishFailureCode(new Error("message size exceeds maximum allowed")), ErrorCode.PAYLOAD_TOO_LARGE);
  assert.equal(publishFailureCode(new Error("timeout")), ErrorCode.INTERNAL);
});
