/** The dead-letter record: the original request (payload and headers) with why it could not be answered. */
import { Type, type Static } from "@sinclair/typebox";

export const DeadLetterSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: Type.String({ description: "request id" }),
    code: Type.String({ description: "OFA_ERR_* code of the error verdict the caller got" }),
    reason: Type.String({ description: "what went wrong, for humans (nats-server 2.9 drops term reasons, so it lives here)" }),
    deliveries: Type.Integer({ minimum: 1 }),
    stream: Type.String(),
    streamSeq: Type.Integer({ minimum: 0 }),
    subject: Type.String({ description: "subject the request was published on (its lane)" }),
    headers: Type.Record(Type.String(), Type.String(), { description: "request headers" }),
    payload: Type.String({ description: "the request payload, base64 (empty when payloadOmitted)" }),
    payloadBytes: Type.Optional(Type.Integer({ minimum: 0, description: "size of the request payload" })),
    payloadSha256: Type.Optional(Type.String({ description: "sha256 (hex) of the request payload" })),
    payloadOmitted: Type.Optional(Type.Boolean({ description: "true when the payload, base64, would not fit one message and was left out" })),
    at: Type.String({ description: "ISO time the record was written" }),
  },
  { $id: "ofa.ve.dead-letter.v1", title: "Dead letter (v1)" },
);
export type DeadLetter = Static<typeof DeadLetterSchema>;

const MAX_HEADER_CHARS = 1024;

export interface DeadLetterSource {
  readonly id: string;
  readonly deliveries: number;
  readonly stream: string;
  readonly streamSeq: number;
  readonly subject: string;
  readonly headers: Iterable<[string, string[]]> | undefined;
  readonly payload: Uint8Array;
  readonly payloadSha256?: string;
  /** False when the payload would not fit the record's message: it is left out (its size and hash stay). */
  readonly keepPayload?: boolean;
}

export function deadLetterRecord(source: DeadLetterSource, code: string, reason: string, now = new Date()): DeadLetter {
  const headers: Record<string, string> = {};
  // Bounded: a caller's oversized header must not make the dead letter itself too large to publish.
  for (const [k, values] of source.headers ?? []) {
    const v = values.join(",");
    headers[k.slice(0, MAX_HEADER_CHARS)] = v.length > MAX_HEADER_CHARS ? `${v.slice(0, MAX_HEADER_CHARS)}…(${v.length} chars)` : v;
  }
  return {
    v: 1,
    id: source.id,
    code,
    reason,
    deliveries: source.deliveries,
    stream: source.stream,
    streamSeq: source.streamSeq,
    subject: source.subject,
    headers,
    payload: source.keepPayload === false ? "" : Buffer.from(source.payload).toString("base64"),
    payloadBytes: source.payload.byteLength,
    ...(source.payloadSha256 === undefined ? {} : { payloadSha256: source.payloadSha256 }),
    ...(source.keepPayload === false ? { payloadOmitted: true } : {}),
    at: now.toISOString(),
  };
}
