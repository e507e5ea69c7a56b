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
    payload: Type.String({ description: "the request payload, base64; its first bytes only when payloadTruncated (empty when payloadOmitted)" }),
    payloadBytes: Type.Optional(Type.Integer({ minimum: 0, description: "size of the request payload" })),
    payloadSha256: Type.Optional(Type.String({ description: "sha256 (hex) of the request payload" })),
    payloadOmitted: Type.Optional(Type.Boolean({ description: "true when no byte of the payload fit the record's message" })),
    payloadTruncated: Type.Optional(Type.Boolean({ description: "true when only the payload's first bytes fit the record's message (payloadBytes and payloadSha256 are the whole payload's)" })),
    headersBytes: Type.Optional(Type.Integer({ minimum: 0, description: "size of the request headers (names and values) as received" })),
    headersOmitted: Type.Optional(Type.Integer({ minimum: 1, description: "how many request headers were left out to keep the record within one message" })),
    at: Type.String({ description: "ISO time the record was written" }),
  },
  { $id: "ofa.ve.dead-letter.v1", title: "Dead letter (v1)" },
);
export type DeadLetter = Static<typeof DeadLetterSchema>;

/** A header name or value is cut to this many characters (values also note their full length). */
const MAX_HEADER_CHARS = 256;
/** The headers take at most this many bytes of the record's JSON; the rest are counted, not copied. Control
 *  characters grow sixfold in JSON (\u0001): 58 headers of 1,024 of them made a 356 KB record before. */
const HEADERS_BUDGET_BYTES = 16 * 1024;
/** Longest reason kept (it may quote what the caller sent). */
const MAX_REASON_CHARS = 4096;

export interface DeadLetterSource {
  readonly id: string;
  readonly deliveries: number;
  readonly stream: string;
  readonly streamSeq: number;
  readonly subject: string;
  readonly headers: Iterable<[string, string[]]> | undefined;
  readonly payload: Uint8Array;
  readonly payloadSha256?: string;
}

/**
 * The dead letter of a request, bounded so that its JSON is at most `maxBytes` whatever the request held: long
 * header names and values are cut, headers past a budget are left out (counted), and a payload whose base64 would not
 * fit is cut to the bytes that do (`payloadTruncated`) — the original sizes and the payload's sha256 always stay.
 */
export function deadLetterRecord(source: DeadLetterSource, code: string, reason: string, maxBytes: number, now = new Date()): DeadLetter {
  const { headers, headersBytes, headersOmitted } = boundedHeaders(source.headers);
  const record: DeadLetter = {
    v: 1,
    id: cut(source.id, MAX_HEADER_CHARS),
    code,
    reason: cut(reason, MAX_REASON_CHARS),
    deliveries: source.deliveries,
    stream: source.stream,
    streamSeq: source.streamSeq,
    subject: cut(source.subject, MAX_HEADER_CHARS),
    headers,
    headersBytes,
    ...(headersOmitted > 0 ? { headersOmitted } : {}),
    payload: "",
    payloadBytes: source.payload.byteLength,
    ...(source.payloadSha256 === undefined ? {} : { payloadSha256: source.payloadSha256 }),
    at: now.toISOString(),
  };
  // Room for the payload: what the record takes without it, and the flag that says it was cut (the longer one).
  const room = maxBytes - jsonBytes({ ...record, payloadTruncated: true });
  const keep = source.payload.byteLength <= Math.floor(Math.max(0, room) / 4) * 3 ? source.payload.byteLength : Math.floor(Math.max(0, room) / 4) * 3;
  if (keep === 0 && source.payload.byteLength > 0) return { ...record, payloadOmitted: true };
  const payload = Buffer.from(source.payload.subarray(0, keep)).toString("base64");
  return keep < source.payload.byteLength ? { ...record, payload, payloadTruncated: true } : { ...record, payload };
}

function boundedHeaders(source: Iterable<[string, string[]]> | undefined): { headers: Record<string, string>; headersBytes: number; headersOmitted: number } {
  const headers = Object.create(null) as Record<string, string>; // a header named __proto__ is data too
  let headersBytes = 0;
  let used = 2;
  let headersOmitted = 0;
  for (const [k, values] of source ?? []) {
    const v = values.join(",");
    headersBytes += k.length + v.length;
    const name = cut(k, MAX_HEADER_CHARS);
    const value = v.length > MAX_HEADER_CHARS ? `${v.slice(0, MAX_HEADER_CHARS)}…(${v.length} chars)` : v;
    const cost = jsonBytes(name) + jsonBytes(value) + 2;
    if (used + cost > HEADERS_BUDGET_BYTES || Object.hasOwn(headers, name)) {
      headersOmitted += 1;
      continue;
    }
    headers[name] = value;
    used += cost;
  }
  return { headers, headersBytes, headersOmitted };
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}
