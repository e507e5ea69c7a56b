import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, VerdictError, parseRequest, subjectToken, verdictSubject } from "../../src/protocol/index.ts";

const limits = { maxPayloadBytes: 1024, maxTextChars: 20 };
const bytes = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v));
const codeOf = (payload: Uint8Array, l = limits) => {
  try {
    parseRequest(payload, l);
    return "accepted";
  } catch (err) {
    assert.ok(err instanceof VerdictError);
    return err.code;
  }
};
const image = { data: Buffer.from("fake-bytes").toString("base64") };

test("protocol - a valid envelope parses into text, premise and decoded image bytes", () => {
  const r = parseRequest(bytes({ v: 1, id: "a", text: "hi", premise: "p", image, deadline: 5 }), limits);
  assert.equal(r.text, "hi");
  assert.equal(r.premise, "p");
  assert.equal(r.image.kind === "inline" && r.image.bytes.toString(), "fake-bytes");
  assert.equal(r.bodyId, "a");
  assert.equal(r.bodyDeadlineMs, 5);
});

test("protocol - each malformed envelope maps to its stable error code", () => {
  assert.equal(codeOf(bytes("{oops")), ErrorCode.PAYLOAD_JSON);
  assert.equal(codeOf(bytes("[1,2]")), ErrorCode.PAYLOAD_SCHEMA);
  assert.equal(codeOf(bytes({ text: "x", image })), ErrorCode.PAYLOAD_SCHEMA);
  assert.equal(codeOf(bytes({ v: 2, text: "x", image })), ErrorCode.SCHEMA_VERSION);
  assert.equal(codeOf(bytes({ v: 1, text: 5, image })), ErrorCode.PAYLOAD_SCHEMA);
  assert.equal(codeOf(bytes({ v: 1, text: "x", image, extra: true })), ErrorCode.PAYLOAD_SCHEMA);
  assert.equal(codeOf(bytes({ v: 1, text: " \n\t ", image })), ErrorCode.TEXT_EMPTY);
  assert.equal(codeOf(bytes({ v: 1, text: "x", premise: "", image })), ErrorCode.TEXT_EMPTY);
  assert.equal(codeOf(bytes({ v: 1, text: "x".repeat(21), image })), ErrorCode.TEXT_TOO_LONG);
  assert.equal(codeOf(bytes({ v: 1, text: "x", image: { data: "not base64!" } })), ErrorCode.IMAGE_BASE64);
  assert.equal(codeOf(bytes({ v: 1, text: "x", image: { data: "" } })), ErrorCode.IMAGE_EMPTY);
  assert.equal(codeOf(bytes({ v: 1, text: "x", image }), { ...limits, maxPayloadBytes: 10 }), ErrorCode.PAYLOAD_TOO_LARGE);
});

test("protocol - caller-chosen ids cannot inject subject tokens or wildcards", () => {
  assert.equal(subjectToken("a.b>*c d"), "a_b__c_d");
  assert.equal(verdictSubject("abc-DEF_1"), "ofa.ve.verdict.abc-DEF_1", "safe ids are used verbatim");
  assert.match(verdictSubject("x.>"), /^ofa\.ve\.verdict\.=[A-Za-z0-9_-]{43}$/, "others are hashed into one bounded token");
  assert.notEqual(verdictSubject("ä"), verdictSubject("ö"), "two ids never share a verdict subject");
  assert.notEqual(verdictSubject("a.b"), verdictSubject("a_b"));
  assert.equal(subjectToken(""), "_");
});
