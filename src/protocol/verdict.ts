/**
 * The v1 verdict's JSON Schema (TypeBox), which docs/asyncapi.json is generated from, and the service's verdict
 * builders. The types, decoding and validation are the client package's (@ofa-entail/client): the assertions below
 * fail the type check when the schemas and those types describe different things, and
 * test/unit/verdict-decode.test.ts runs the schema's check and the package's over the same samples.
 */
import { Type, type Static } from "@sinclair/typebox";
import {
  ERROR_SPECS,
  type AnyVerdict,
  type ErrorCode,
  type ErrorDetails,
  type ErrorVerdict,
  type ListVerdict,
  type ModelInfo,
  type OkVerdict,
} from "@ofa-entail/client/source";

export {
  VerdictLabel,
  decodeAnyVerdict,
  decodeVerdictPayload,
  
  type AnyVerdict,
  type ErrorDetails,
  type ErrorVerdict,
  type ListVerdict,
  type ModelInfo,
  type OkVerdict,
  type Verdict,
} from "@ofa-entail/client/source";

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
const ListVerdictSchema = Type.Object(
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

/** True when A and B are each assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// The schemas describe exactly the package's types (a drift is a type error here).
const schemasMatchTypes: [
  Same<Static<typeof ModelInfoSchema>, ModelInfo>,
  Same<Static<typeof OkVerdictSchema>, OkVerdict>,
  Same<Static<typeof ListVerdictSchema>, ListVerdict>,
  Same<Static<typeof ErrorVerdictSchema>, ErrorVerdict>,
] = [true, true, true, true];
void schemasMatchTypes;

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
