/** The dead-letter record is bounded (issue 24, item 4): whatever a request holds, its record fits one message. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deadLetterRecord, type DeadLetterSource } from "../../src/protocol/dead-letter.ts";

const MAX_PAYLOAD = 1024 * 1024;
const LIMIT = MAX_PAYLOAD - 1024;
const bytes = (record: unknown) => Buffer.byteLength(JSON.stringify(record));

function source(headers: [string, string[]][], payload: Uint8Array): DeadLetterSource {
  return { id: "dl-1", deliveries: 1, stream: "OFA_VE_REQ", streamSeq: 7, subject: "ofa.ve.req.interactive", headers, payload, payloadSha256: "ab".repeat(32) };
}

test("dead letter - 58 headers of 1,024 control characters and a 710 KB payload: the record fits max_payload, cut, with the original sizes", () => {
  // The attack of issue 24: each control character is six bytes in JSON (\u0001), so copied whole they made 356 KB.
  const headers = Array.from({ length: 58 }, (_, i): [string, string[]] => [`X-Junk-${i}`, ["\u0001".repeat(1024)]]);
  const payload = new Uint8Array(710 * 1024).fill(65);
  const record = deadLetterRecord(source([["Nats-Msg-Id", ["dl-1"]], ...headers], payload), "OFA_ERR_PAYLOAD_SCHEMA", "bad", LIMIT);
  assert.ok(bytes(record) <= LIMIT, `${bytes(record)} bytes ≤ ${LIMIT}`);
  assert.equal(record.headers["Nats-Msg-Id"], "dl-1", "the id header is kept");
  const original = headers.reduce((n, [k, [v]]) => n + k.length + v!.length, "Nats-Msg-Id".length + "dl-1".length);
  assert.equal(record.headersBytes, original, "the headers' original size");
  assert.ok(record.headersOmitted! > 0, "headers past the budget are counted");
  assert.equal(record.payloadBytes, payload.byteLength);
  assert.equal(record.payloadTruncated, undefined, "with the headers bounded, the whole payload fits (base64, 947 KB)");
  assert.deepEqual(Buffer.from(record.payload, "base64"), Buffer.from(payload));

  // A payload whose base64 cannot fit (900 KB → 1.2 MB) is cut to its first bytes; sizes and hash stay.
  const large = new Uint8Array(900 * 1024).fill(66);
  const cut = deadLetterRecord(source([["Nats-Msg-Id", ["dl-1"]], ...headers], large), "OFA_ERR_PAYLOAD_SCHEMA", "bad", LIMIT);
  assert.ok(bytes(cut) <= LIMIT, `${bytes(cut)} bytes ≤ ${LIMIT}`);
  assert.equal(cut.payloadTruncated, true);
  assert.equal(cut.payloadBytes, large.byteLength);
  assert.equal(cut.payloadSha256, "ab".repeat(32));
  const kept = Buffer.from(cut.payload, "base64");
  assert.ok(kept.byteLength > 700 * 1024, `most of the payload is kept (${kept.byteLength} bytes)`);
  assert.deepEqual(kept, Buffer.from(large.subarray(0, kept.byteLength)), "its first bytes");
});

test("dead letter - a small request is kept whole; a tiny limit still gives a record within it", () => {
  const payload = Buffer.from('{"v":1,"text":"x"}');
  const whole = deadLetterRecord(source([["Nats-Msg-Id", ["dl-1"]]], payload), "OFA_ERR_PAYLOAD_SCHEMA", "bad", LIMIT);
  assert.deepEqual(Buffer.from(whole.payload, "base64"), payload);
  assert.equal(whole.payloadTruncated, undefined);
  assert.equal(whole.headersOmitted, undefined);
  const tiny = deadLetterRecord(source([["__proto__", ["x"]], ["h", ["\u0000".repeat(5000)]]], new Uint8Array(5000)), "OFA_ERR_INTERNAL", "r".repeat(10_000), 8 * 1024);
  assert.ok(bytes(tiny) <= 8 * 1024, `${bytes(tiny)} bytes`);
  assert.equal(tiny.payloadBytes, 5000);
  assert.equal(JSON.parse(JSON.stringify(tiny)).headers.__proto__, "x", "a header named __proto__ is kept as data");
});

test("dead letter - a failed publish is reported (what, how large, which attempt) and tried again; the last failure is thrown", async () => {
  const { VerdictPublisher } = await import("../../src/nats/publish.ts");
  let calls = 0;
  let failUntil = 1;
  const js = { publish: async () => (++calls <= failUntil ? Promise.reject(new Error("nats: timeout")) : { seq: calls, duplicate: false }) };
  const nc = { info: { max_payload: MAX_PAYLOAD } };
  const failures: Array<{ attempt: number; final: boolean; recordBytes: number; maxPayload: number; code: string }> = [];
  const publisher = new VerdictPublisher(nc as never, js as never, (f) => void failures.push(f));
  const target = { id: "dl-2", replyTo: undefined, deliveries: 1, payloadHash: "00", msg: { subject: "ofa.ve.req.bulk", data: new Uint8Array(10), headers: undefined, info: { streamSequence: 3 } } };
  await publisher.deadLetter(target, "OFA_ERR_PAYLOAD_JSON", "not JSON");
  assert.equal(calls, 2, "tried again after the failure");
  assert.deepEqual(failures.map((f) => [f.attempt, f.final, f.code, f.maxPayload]), [[1, false, "OFA_ERR_PAYLOAD_JSON", MAX_PAYLOAD]]);
  assert.ok(failures[0]!.recordBytes > 0);

  calls = 0;
  failUntil = 99;
  failures.length = 0;
  await assert.rejects(publisher.deadLetter(target, "OFA_ERR_PAYLOAD_JSON", "not JSON"), /timeout/);
  assert.deepEqual(failures.map((f) => [f.attempt, f.final]), [[1, false], [2, false], [3, true]]);
});
