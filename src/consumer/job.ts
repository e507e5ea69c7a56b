/** One request as a worker holds it: the JetStream message plus what the worker learnt about it. */
import type { JsMsg } from "@nats-io/jetstream";
import { Header, payloadHash, trustedHeaders, type ImageRef, type Lane, type VerdictError } from "../protocol/index.ts";
import type { RequestWork } from "./work.ts";

export interface Job {
  readonly msg: JsMsg;
  readonly lane: Lane;
  /** Nats-Msg-Id, else the envelope's id, else `seq-<stream sequence>` (set once the body is parsed). An id that
   *  breaks the id rule is never used: the request is answered as `seq-<stream sequence>` with OFA_ERR_REQUEST_ID. */
  id: string;
  /** Only a reply subject that passed the allow-list; undefined otherwise (nothing is published to it). */
  readonly replyTo: string | undefined;
  deadlineMs: number | undefined;
  readonly deliveries: number;
  readonly publishedAtMs: number;
  readonly receivedAtMs: number;
  /** sha256 of the payload: carried by the verdict, compared when the id already has one. */
  readonly payloadHash: string;
  /** What is wrong with the request's headers; admission fails with it before reading the body. */
  readonly rejection: VerdictError | undefined;
  preprocessMs: number;
  readyAtMs: number;
  /** The rows still to run (set at admission). */
  work: RequestWork | undefined;
  imageRef: ImageRef | undefined;
  cacheKey: string | undefined;
}

export function jobFromMessage(msg: JsMsg, lane: Lane, nowMs: number, replySubjects: readonly string[]): Job {
  const { id, replyTo, deadlineMs, problems } = trustedHeaders(msg.headers, msg.info.streamSequence, replySubjects);
  return {
    msg,
    lane,
    id,
    replyTo,
    deadlineMs,
    deliveries: msg.info.deliveryCount,
    publishedAtMs: Math.floor(Number(msg.info.timestampNanos) / 1e6),
    receivedAtMs: nowMs,
    payloadHash: payloadHash(msg.data),
    rejection: problems[0],
    preprocessMs: 0,
    readyAtMs: 0,
    work: undefined,
    imageRef: undefined,
    cacheKey: undefined,
  };
}

export function hasExplicitId(job: Job): boolean {
  return Boolean(job.msg.headers?.get(Header.MsgId));
}
