/**
 * The v1 request on the wire: the JSON envelope and its headers, built in one place for every sender (the SDK, the
 * benchmark's publisher, the load generator through the SDK). The service's validation of it (limits, the TypeBox
 * schema its docs are generated from) stays server-side, in src/protocol/request.ts.
 */
import { createHash } from "node:crypto";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { Header } from "./headers.ts";

export const ENVELOPE_VERSION = 1;
export const MAX_ID_CHARS = 128;

export interface ImageRef {
  /** NATS object store bucket (the service accepts only IMAGE_BUCKET). */
  bucket: string;
  /** Object name in the bucket. */
  name: string;
}

export interface RequestEnvelope {
  v: 1;
  /** 1–128 characters without control characters; the Nats-Msg-Id header wins when both are set. */
  id?: string;
  /** The hypothesis (or send `hypotheses`). */
  text?: string;
  /** A policy list: several hypotheses about the one image, answered in order in one verdict. */
  hypotheses?: string[];
  /** Optional premise (OFA's text1), shared by every hypothesis of a list. */
  premise?: string;
  /** Inline image (standard base64 of JPEG, PNG or WebP) or an object-store reference for large ones. */
  image: { data: string } | { ref: ImageRef };
  /** Absolute deadline, whole ms since the Unix epoch; the Ofa-Deadline header wins. */
  deadline?: number;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** What a message's subject or value looks like in an error message: bounded and printable. */
export function quote(value: string, max = 64): string {
  const shown = value.length > max ? `${value.slice(0, max)}…(${value.length} chars)` : value;
  return JSON.stringify(shown.replace(/[^\x20-\x7e]/g, "?"));
}

/** Why an id is refused, or undefined. The same rule for Nats-Msg-Id and the envelope's `id`. */
export function requestIdProblem(id: string): string | undefined {
  if (id.length === 0) return "request id is empty";
  if (id.length > MAX_ID_CHARS) return `request id has ${id.length} characters; the limit is ${MAX_ID_CHARS}`;
  if (CONTROL.test(id)) return `request id ${quote(id)} contains control characters`;
  return undefined;
}

/** sha256 (hex) of a request's payload bytes: the verdict carries it (Ofa-Request-Sha256), so a reply is matched to
 *  the request it answers and a repeated id with other content is told apart. */
export function payloadHash(payload: Uint8Array | string): string {
  return createHash("sha256").update(payload).digest("hex");
}

/** The request's payload bytes: what is published, and what payloadHash is taken of. */
export function encodeEnvelope(envelope: RequestEnvelope): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(envelope));
}

export interface RequestHeaderOptions {
  /** Where the verdict goes (core NATS); absent, the verdict is only in the verdict stream. */
  replyTo?: string;
  /** Absolute deadline, ms since the epoch. */
  deadlineMs?: number;
}

/** The request headers (Nats-Msg-Id is the publish's msgID option, not set here). */
export function requestHeaders(opts: RequestHeaderOptions): MsgHdrs {
  const h = natsHeaders();
  if (opts.replyTo !== undefined) h.set(Header.ReplyTo, opts.replyTo);
  h.set(Header.Version, String(ENVELOPE_VERSION));
  if (opts.deadlineMs !== undefined) h.set(Header.Deadline, String(opts.deadlineMs));
  return h;
}
