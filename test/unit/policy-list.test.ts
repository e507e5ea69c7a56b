/** Policy lists, the pure parts: envelope checks naming the faulty hypothesis, row batching, the list verdict. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReadyQueue } from "../../src/consumer/batch-policy.ts";
import { VerdictCache } from "../../src/consumer/cache.ts";
import { listVerdict, newWork, recordRun, rowsLeft } from "../../src/consumer/work.ts";
import { assembleRows, expandRows } from "../../src/model/rows.ts";
import type { Manifest } from "../../src/model/index.ts";
import { ErrorCode, VerdictError, parseRequest, type Lane, type OkVerdict } from "../../src/protocol/index.ts";

const limits = { maxPayloadBytes: 4096, maxTextChars: 20, maxHypotheses: 4 };
const image = { data: Buffer.from("fake-bytes").toString("base64") };
const parse = (body: unknown) => parseRequest(Buffer.from(JSON.stringify(body)), limits);
const fault = (body: unknown): VerdictError => {
  try {
    parse(body);
  } catch (err) {
    assert.ok(err instanceof VerdictError);
    return err;
  }
  assert.fail("accepted");
};

test("policy list - hypotheses parse in order with a shared premise; a single text stays a single request", () => {
  const r = parse({ v: 1, hypotheses: ["a", "b", "c"], premise: "p", image });
  assert.deepEqual(r.hypotheses, ["a", "b", "c"]);
  assert.equal(r.premise, "p");
  const single = parse({ v: 1, text: "a", image });
  assert.equal(single.hypotheses, undefined);
  assert.equal(single.text, "a");
});

test("policy list - faults are typed, and one in a hypothesis names it in details.index", () => {
  const empty = fault({ v: 1, hypotheses: ["a", " ", "c"], image });
  assert.equal(empty.code, ErrorCode.TEXT_EMPTY);
  assert.deepEqual(empty.details, { index: 1 });
  assert.match(empty.message, /hypotheses\[1\]/);
  const long = fault({ v: 1, hypotheses: ["a", "b", "c", "x".repeat(21)], image });
  assert.equal(long.code, ErrorCode.TEXT_TOO_LONG);
  assert.deepEqual(long.details, { index: 3 });
  assert.equal(fault({ v: 1, hypotheses: ["a", "b", "c", "d", "e"], image }).code, ErrorCode.TOO_MANY_HYPOTHESES);
  assert.equal(fault({ v: 1, hypotheses: [], image }).code, ErrorCode.PAYLOAD_SCHEMA);
  assert.equal(fault({ v: 1, text: "a", hypotheses: ["b"], image }).code, ErrorCode.PAYLOAD_SCHEMA);
  assert.equal(fault({ v: 1, image }).code, ErrorCode.PAYLOAD_SCHEMA);
  assert.equal(fault({ v: 1, text: " ", image }).details, undefined, "a single text has no index");
  assert.equal(parseRequest(Buffer.from(JSON.stringify({ v: 1, hypotheses: Array(16).fill("x"), image })), { maxPayloadBytes: 4096, maxTextChars: 20 }).hypotheses?.length, 16, "the default limit is 16");
});

interface Item {
  lane: Lane;
  readyAtMs: number;
  name: string;
  left: number;
}

test("policy list - the batcher counts rows against maxBatch; a long list is split over batches and continues first", () => {
  const q = new ReadyQueue<Item>();
  const list: Item = { lane: "interactive", readyAtMs: 0, name: "list", left: 10 };
  const single: Item = { lane: "interactive", readyAtMs: 1, name: "single", left: 1 };
  q.push(list);
  q.push(single);
  const rowsOf = (i: Item) => i.left;
  assert.equal(q.rowCount(rowsOf), 11);
  const runs: string[] = [];
  while (q.size > 0) {
    const batch = q.takeRows(4, rowsOf);
    assert.ok(batch.reduce((n, s) => n + s.rows, 0) <= 4);
    runs.push(batch.map((s) => `${s.item.name}:${s.rows}`).join(" "));
    for (const s of batch) s.item.left -= s.rows;
  }
  assert.deepEqual(runs, ["list:4", "list:4", "list:2 single:1"]);
});

test("policy list - bulk's share is counted in rows and a bulk list taken in part is continued, not taken twice", () => {
  const q = new ReadyQueue<Item>();
  const bulk: Item = { lane: "bulk", readyAtMs: 0, name: "bulk", left: 6 };
  q.push(bulk);
  const batch = q.takeRows(8, (i) => i.left);
  assert.deepEqual(batch.map((s) => [s.item.name, s.rows]), [["bulk", 6]], "one slice per item");
  const q2 = new ReadyQueue<Item>();
  q2.push({ lane: "bulk", readyAtMs: 0, name: "bulk", left: 6 });
  for (let i = 0; i < 8; i++) q2.push({ lane: "interactive", readyAtMs: 0, name: `i${i}`, left: 1 });
  const mixed = q2.takeRows(8, (i) => i.left);
  assert.deepEqual(mixed[0], { item: mixed[0]!.item, rows: 2 }, "a quarter of 8 rows for bulk");
  assert.equal(mixed.reduce((n, s) => n + s.rows, 0), 8);
});

test("policy list - rows share their image: assembleRows carries each image once and expandRows repeats it per row", () => {
  const manifest = { image: { size: 1 }, text: { padId: 1, bosId: 0 }, prompt: { type: "none" } } as unknown as Manifest;
  const a = Float32Array.of(1, 2, 3);
  const b = Float32Array.of(4, 5, 6);
  const embeds = { data: Float32Array.of(7, 8), tokens: 1, dim: 2 };
  const feed = assembleRows([{ image: { pixels: a }, rows: [[0, 5, 2], [0, 2]] }, { image: { embeds }, rows: [[0, 9, 9, 2]] }, { image: { pixels: b }, rows: [[0, 2]] }], manifest);
  assert.equal(feed.rows, 4);
  assert.equal(feed.newImages, 2);
  assert.deepEqual([...feed.images], [1, 2, 3, 4, 5, 6]);
  assert.equal(feed.embedded, 1);
  assert.deepEqual([...feed.rowImage], [0, 0, 2, 1], "new images first, then the embedded ones");
  assert.deepEqual([...feed.inputIds].map(Number), [0, 5, 2, 1, 0, 2, 1, 1, 0, 9, 9, 2, 0, 2, 1, 1]);
  assert.deepEqual([...expandRows([feed.images], 3, Int32Array.of(1, 0, 1))], [4, 5, 6, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...expandRows([Float32Array.of(1, 2), Float32Array.of(3)], 1, Int32Array.of(2, 0))], [3, 1]);
});

test("policy list - answers land in hypothesis order around cached ones; the verdict carries results", () => {
  const yes = { label: "yes" as const, scores: { yes: 0.8, no: 0.1, maybe: 0.1 } };
  const no = { label: "no" as const, scores: { yes: 0.1, no: 0.8, maybe: 0.1 } };
  const work = newWork(["a", "b", "c"], 3, [undefined, yes, undefined], ["k0", "k1", "k2"]);
  work.rows.push([1], [3]);
  work.rowIndex.push(0, 2);
  recordRun(work, [no], undefined, 5, 4, 100);
  assert.equal(rowsLeft(work), 1);
  recordRun(work, [yes], undefined, 7, 1, 200);
  assert.equal(rowsLeft(work), 0);
  assert.equal(work.inferenceMs, 12);
  assert.equal(work.firstRunAtMs, 100);
  const base = { v: 1, id: "x", ok: true, label: "no", scores: no.scores, batchSize: 1 } as unknown as OkVerdict;
  const v = listVerdict(base, ["a", "b", "c"], work.answers);
  assert.deepEqual(v.results.map((r) => [r.text, r.label]), [["a", "no"], ["b", "yes"], ["c", "yes"]]);
  assert.ok(!("label" in v) && !("scores" in v));
});

test("policy list - cache keys are per (image, text, premise, model): a list's key for a text is the single request's key", () => {
  const img = Buffer.from("image bytes");
  const keys = VerdictCache.keys(img, ["a", "b"], undefined, "v1");
  assert.equal(keys[1], VerdictCache.key(img, "b", undefined, "v1"));
  assert.notEqual(keys[0], keys[1]);
  assert.notEqual(VerdictCache.key(img, "a", "p", "v1"), keys[0]);
  assert.notEqual(VerdictCache.key(img, "a", undefined, "v2"), keys[0]);
  assert.notEqual(VerdictCache.key(Buffer.from("other"), "a", undefined, "v1"), keys[0]);
});
