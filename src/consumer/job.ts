/** One request as a worker holds it: the JetStream message plus what the worker learnt about it. */
import type { JsMsg } from "@nats-io/jetstream";
import {
  Header,
  VerdictError,
  checkReplySubject,
  checkRequestId,
  parseDeadline,
  payloadHash,
  type ImageRef,
  type Lane,
} from "../protocol/index.ts";
import type { PreparedInput } from "../model/index.ts";

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
  prepared: PreparedInput | undefined;
  imageRef: ImageRef | undefined;
  cacheKey: string | undefined;
}

export function jobFromMessage(msg: JsMsg, lane: Lane, nowMs: number, replySubjects: readonly string[]): Job {
  const headerId = msg.headers?.get(Header.MsgId) || undefined;
  const rawReply = msg.headers?.get(Header.ReplyTo) || undefined;
  const problems: VerdictError[] = [];
  const id = headerId !== undefined && !attempt(problems, () => checkRequestId(headerId)) ? headerId : `seq-${msg.info.streamSequence}`;
  const replyTo = rawReply !== undefined && !attempt(problems, () => checkReplySubject(rawReply, replySubjects)) ? rawReply : undefined;
  let deadlineMs: number | undefined;
  attempt(problems, () => (deadlineMs = parseDeadline(msg.headers?.get(Header.Deadline), `${Header.Deadline} header`)));
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
    prepared: undefined,
    imageRef: undefined,
    cacheKey: undefined,
  };
}

/** Runs a check; true (and the error kept) when it threw a VerdictError. */
function attempt(problems: VerdictError[], check: () => void): boolean {
  try {
    check();
    return false;
  } catch (err) {
    if (!(err instanceof VerdictError)) throw err;
    problems.push(err);
    return true;
  }
}

export function hasExplicitId(job: Job): boolean {
  return Boolean(job.msg.headers?.get(Header.MsgId));
}
