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

const ScoresSchema = Type.Object({ yes: Type.Number(), no: Type.Number(), maybe: Type.Number() }, { description: "softmax over the three answers; sums to 1" });

export const OkVerdictSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: Type.String(),
    ok: Type.Literal(true),
    label: Type.Union([Type.Literal("yes"), Type.Literal("no"), Type.Literal("maybe")]),
    scores: ScoresSchema,
    model: ModelInfoSchema,
    timings: TimingsSchema,
    batchSize: Type.Integer({ minimum: 1 }),
    deliveries: Type.Integer({ minimum: 1 }),
    worker: Type.String(),
    cached: Type.Optional(Type.Boolean({ description: "answered from the verdict cache without running the model" })),
  },
  { $id: "ofa.ve.verdict.ok.v1" },
);

/** The verdict of a policy list (`hypotheses` in the request): one result per hypothesis, in the request's order. */
export const ListVerdictSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: Type.String(),
    ok: Type.Literal(true),
    results: Type.Array(
      Type.Object({
        text: Type.String({ description: "the hypothesis, as sent" }),
        label: Type.Union([Type.Literal("yes"), Type.Literal("no"), Type.Literal("maybe")]),
        scores: ScoresSchema,
      }),
      { minItems: 1, description: "one answer per hypothesis, in the request's order" },
    ),
    model: ModelInfoSchema,
    timings: TimingsSchema,
    batchSize: Type.Integer({ minimum: 1, description: "rows in the (last) session.run that answered this list" }),
    deliveries: Type.Integer({ minimum: 1 }),
    worker: Type.String(),
    cached: Type.Optional(Type.Boolean({ description: "every answer came from the verdict cache without running the model" })),
  },
  { $id: "ofa.ve.verdict.list.v1" },
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
      details: Type.Optional(
        Type.Object(
          { index: Type.Optional(Type.Integer({ minimum: 0, description: "which hypothesis of a list is at fault (0-based)" })) },
          { description: "where in the request the fault is, when it is in one part of it" },
        ),
      ),
    }),
    model: Type.Optional(ModelInfoSchema),
    deliveries: Type.Optional(Type.Integer({ minimum: 1 })),
    worker: Type.Optional(Type.String()),
  },
  { $id: "ofa.ve.verdict.error.v1" },
);

export const VerdictSchema = Type.Union([OkVerdictSchema, ListVerdictSchema, ErrorVerdictSchema], {
  $id: "ofa.ve.verdict.v1",
  title: "Visual entailment verdict (v1)",
});

export type ModelInfo = Static<typeof ModelInfoSchema>;
export type OkVerdict = Static<typeof OkVerdictSchema>;
export type ListVerdict = Static<typeof ListVerdictSchema>;
export type ErrorVerdict = Static<typeof ErrorVerdictSchema>;
export type ErrorDetails = NonNullable<ErrorVerdict["error"]["details"]>;
/** The verdict of a single-`text` request. */
export type Verdict = OkVerdict | ErrorVerdict;
/** Any verdict on the wire: a single request's, or a policy list's. */
export type AnyVerdict = Verdict | ListVerdict;

const checkVerdict = TypeCompiler.Compile(Type.Union([OkVerdictSchema, ErrorVerdictSchema]));
const checkAnyVerdict = TypeCompiler.Compile(VerdictSchema);

export function errorVerdict(
  id: string,
  code: ErrorCode,
  message: string,
  extra: { model?: ModelInfo; deliveries?: number; worker?: string; details?: ErrorDetails } = {},
): ErrorVerdict {
  const { details, ...rest } = extra;
  return { v: 1, id, ok: false, error: { code, message, retryable: ERROR_SPECS[code].retryable, ...(details ? { details } : {}) }, ...rest };
}

export function encodeVerdict(verdict: AnyVerdict): Uint8Array {
  return Buffer.from(JSON.stringify(verdict));
}

/**
 * Decodes and validates a single request's verdict; throws a plain Error naming the problem (a protocol bug, not a
 * caller error). A policy list's verdict is refused here: readers that may meet lists use decodeAnyVerdict.
 */
export function decodeVerdictPayload(payload: Uint8Array): Verdict {
  return checked(payload, checkVerdict);
}

/** Decodes and validates any verdict: a single request's or a policy list's. */
export function decodeAnyVerdict(payload: Uint8Array): AnyVerdict {
  return checked(payload, checkAnyVerdict);
}

function checked<T>(payload: Uint8Array, check: { Check(v: unknown): v is T; Errors(v: unknown): { First(): { path: string; message: string } | undefined } }): T {
  const value: unknown = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8"));
  if (!check.Check(value)) {
    const first = check.Errors(value).First();
    throw new Error(`malformed verdict: ${first ? `${first.path} ${first.message}` : "unknown"}`);
  }
  return value;
}
