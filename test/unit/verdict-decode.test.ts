/**
 * The client package checks verdicts by hand (it depends on @nats-io/* only); the service keeps the TypeBox schemas
 * docs/asyncapi.json is generated from. Both must accept and refuse the same values: every valid verdict shape, and
 * each of them with every field (nested too) removed or replaced by a value of another type.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { decodeAnyVerdict, decodeVerdictPayload, verdictProblem } from "@ofa-entail/client/source";
import { ErrorVerdictSchema, OkVerdictSchema, VerdictSchema } from "../../src/protocol/verdict.ts";

const anySchema = TypeCompiler.Compile(VerdictSchema);
const singleSchema = TypeCompiler.Compile(Type.Union([OkVerdictSchema, ErrorVerdictSchema]));

const model = { name: "ofa-tiny", version: "1", meaningful: false };
const timings = { queueMs: 1, preprocessMs: 2, batchWaitMs: 0, inferenceMs: 3.5, totalMs: 7 };
const VALID: Record<string, unknown>[] = [
  { v: 1, id: "a", ok: true, label: "yes", scores: { yes: 0.7, no: 0.2, maybe: 0.1 }, model, timings, batchSize: 2, deliveries: 1, worker: "w1" },
  { v: 1, id: "b", ok: true, label: "maybe", scores: { yes: 0, no: 0, maybe: 1 }, model, timings, batchSize: 1, deliveries: 3, worker: "w", cached: true },
  {
    v: 1,
    id: "c",
    ok: true,
    results: [
      { text: "one", label: "no", scores: { yes: 0.1, no: 0.8, maybe: 0.1 } },
      { text: "two", label: "yes", scores: { yes: 0.9, no: 0.05, maybe: 0.05 } },
    ],
    model,
    timings,
    batchSize: 2,
    deliveries: 1,
    worker: "w",
    cached: false,
  },
  { v: 1, id: "d", ok: false, error: { code: "OFA_ERR_TEXT_EMPTY", message: "text is empty", retryable: false } },
  { v: 1, id: "e", ok: false, error: { code: "OFA_ERR_FROM_A_NEWER_SERVER", message: "m", retryable: true, details: { index: 0 } }, model, deliveries: 2, worker: "w" },
  { v: 1, id: "f", ok: false, error: { code: "OFA_ERR_TEXT_TOO_LONG", message: "m", retryable: false, details: {} }, extra: "fields are allowed" },
];

const REPLACEMENTS: unknown[] = [undefined, null, "x", 0, -1, 1.5, 2, true, [], {}, [{}]];

/** Every value with one field, at any depth, removed (undefined) or replaced. */
function* mutations(value: unknown): Generator<unknown> {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      for (const m of [...REPLACEMENTS.filter((r) => r !== undefined), ...mutations(value[i])]) yield value.map((v, j) => (j === i ? m : v));
    }
    yield [];
    return;
  }
  if (typeof value !== "object" || value === null) return;
  for (const key of Object.keys(value)) {
    const rec = value as Record<string, unknown>;
    for (const m of [...REPLACEMENTS, ...mutations(rec[key])]) {
      const copy = { ...rec };
      if (m === undefined) delete copy[key];
      else copy[key] = m;
      yield copy;
    }
  }
}

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const accepts = (decode: (b: Uint8Array) => unknown, v: unknown) => {
  try {
    decode(bytes(v));
    return true;
  } catch {
    return false;
  }
};

test("verdict decoding - the client's hand-written check agrees with the service's TypeBox schema", () => {
  let samples = 0;
  for (const valid of VALID) {
    assert.equal(verdictProblem(valid), undefined, JSON.stringify(valid));
    for (const v of [valid, ...mutations(valid)]) {
      samples++;
      const label = JSON.stringify(v);
      assert.equal(verdictProblem(v) === undefined, anySchema.Check(v), `any verdict: ${label} (${verdictProblem(v)})`);
      assert.equal(accepts(decodeAnyVerdict, v), anySchema.Check(v), `decodeAnyVerdict: ${label}`);
      assert.equal(accepts(decodeVerdictPayload, v), singleSchema.Check(v), `decodeVerdictPayload: ${label}`);
    }
  }
  assert.ok(samples > 500, `${samples} samples`);
});

test("verdict decoding - a refusal names the field", () => {
  assert.throws(() => decodeAnyVerdict(bytes({ ...VALID[0], scores: { yes: 1, no: 0 } })), /malformed verdict: \/scores\/maybe/);
  assert.throws(() => decodeAnyVerdict(bytes({ ...VALID[3], error: { code: "X", message: "m" } })), /\/error\/retryable/);
  assert.throws(() => decodeVerdictPayload(bytes(VALID[2])), /policy list/);
});
