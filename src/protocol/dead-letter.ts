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
    payload: Type.String({ description: "the request payload, base64" }),
    at: Type.String({ description: "ISO time the record was written" }),
  },
  { $id: "ofa.ve.dead-letter.v1", title: "Dead letter (v1)" },
);
export type DeadLetter = Static<typeof DeadLetterSchema>;

export interface DeadLetterSource {
  readonly id: string;
  readonly deliveries: number;
  readonly stream: string;
  readonly streamSeq: number;
  readonly subject: string;
  readonly headers: Iterable<[string, string[]]> | undefined;
  readonly payload: Uint8Array;
}

export function deadLetterRecord(source: DeadLetterSource, code: string, reason: string, now = new Date()): DeadLetter {
  const headers: Record<string, string> = {};
  for (const [k, values] of source.headers ?? []) headers[k] = values.join(",");
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
    payload: Buffer.from(source.payload).toString("base64"),
    at: now.toISOString(),
  };
}
