/** The v1 verdict: one JSON message per request, `ok: true` with a label and scores, or `ok: false` with an error. */
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ERROR_SPECS, type ErrorCode } from "./errors.ts";

export const VerdictLabel = { yes: "yes", no: "no", maybe: "maybe" } as const;
export type VerdictLabel = (typeof VerdictLabel)[keyof typeof VerdictLabel];

const ModelInfoSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  meaningful: Type.Boolean({ description: "false for random-weight test/benchmark models: the label carries no meaning" }),
});

const TimingsSchema = Type.Object({
  queueMs: Type.Number({ description: "from publish to the worker receiving it" }),
  preprocessMs: Type.Number(),
  batchWaitMs: Type.Number({ description: "waiting for the batch to fill or its delay to pass" }),
  inferenceMs: Type.Number({ description: "onnxruntime session.run of the whole batch" }),
  totalMs: Type.Number({ description: "from publish to the verdict being published" }),
});

export const OkVerdictSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: Type.String(),
    ok: Type.Literal(true),
    label: Type.Union([Type.Literal("yes"), Type.Literal("no"), Type.Literal("maybe")]),
    scores: Type.Object({ yes: Type.Number(), no: Type.Number(), maybe: Type.Number() }, { description: "softmax over the three answers; sums to 1" }),
    model: ModelInfoSchema,
    timings: TimingsSchema,
    batchSize: Type.Integer({ minimum: 1 }),
    deliveries: Type.Integer({ minimum: 1 }),
    worker: Type.String(),
    cached: Type.Optional(Type.Boolean({ description: "answered from the verdict cache without running the model" })),
  },
  { $id: "ofa.ve.verdict.ok.v1" },
);

export const ErrorVerdictSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: Type.String(),
    ok: Type.Literal(false),
    error: Type.Object({
      code: Type.String({ description: "stable OFA_ERR_* code (docs/errors.md)" }),
      message: Type.String(),
      retryable: Type.Boolean(),
    }),
    model: Type.Optional(ModelInfoSchema),
    deliveries: Type.Optional(Type.Integer({ minimum: 1 })),
    worker: Type.Optional(Type.String()),
  },
  { $id: "ofa.ve.verdict.error.v1" },
);

export const VerdictSchema = Type.Union([OkVerdictSchema, ErrorVerdictSchema], {
  $id: "ofa.ve.verdict.v1",
  title: "Visual entailment verdict (v1)",
});

export type ModelInfo = Static<typeof ModelInfoSchema>;
export type OkVerdict = Static<typeof OkVerdictSchema>;
export type ErrorVerdict = Static<typeof ErrorVerdictSchema>;
export type Verdict = OkVerdict | ErrorVerdict;

const checkVerdict = TypeCompiler.Compile(VerdictSchema);

export function errorVerdict(
  id: string,
  code: ErrorCode,
  message: string,
  extra: { model?: ModelInfo; deliveries?: number; worker?: string } = {},
): ErrorVerdict {
  return { v: 1, id, ok: false, error: { code, message, retryable: ERROR_SPECS[code].retryable }, ...extra };
}

export function encodeVerdict(verdict: Verdict): Uint8Array {
  return Buffer.from(JSON.stringify(verdict));
}

/** Decodes and validates a verdict; throws a plain Error naming the problem (a protocol bug, not a caller error). */
export function decodeVerdict(payload: Uint8Array): Verdict {
  const value: unknown = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8"));
  if (!checkVerdict.Check(value)) {
    const first = checkVerdict.Errors(value).First();
    throw new Error(`malformed verdict: ${first ? `${first.path} ${first.message}` : "unknown"}`);
  }
  return value;
}
