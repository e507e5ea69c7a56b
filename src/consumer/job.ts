/**
 * A request's states as a worker holds it, each a type: a received `Job` (the JetStream message and what its
 * headers say), an `AdmittedJob` (the envelope read, the id and deadline final, its work prepared), and — in the
 * batch loop's queue — a waiting entry that adds when it became ready. Each state is a new object; the message
 * (`msg`) is the request's identity, and capacity.ts releases a request by it.
 */
import type { JsMsg } from "@nats-io/jetstream";
import { ErrorCode, Header, VerdictError, payloadHash, trustedHeaders, type ImageRef, type Lane } from "../protocol/index.ts";
import type { RequestWork } from "./work.ts";

export interface Job {
  readonly msg: JsMsg;
  readonly lane: Lane;
  /** Nats-Msg-Id, else the envelope's id (once admission read it), else `seq-<stream sequence>`. An id that breaks
   *  the id rule is never used: the request is answered as `seq-<stream sequence>` with OFA_ERR_REQUEST_ID. */
  readonly id: string;
  /** Only a reply subject that passed the allow-list; undefined otherwise (nothing is published to it). */
  readonly replyTo: string | undefined;
  readonly deadlineMs: number | undefined;
  readonly deliveries: number;
  readonly publishedAtMs: number;
  readonly receivedAtMs: number;
  /** sha256 of the payload: carried by the verdict, compared when the id already has one. */
  readonly payloadHash: string;
  /** What is wrong with the request's headers; admission fails with it before reading the body. */
  readonly rejection: VerdictError | undefined;
  /** The out-of-band image, once admission accepted the reference: deleted when the request is answered for good. */
  readonly imageRef: ImageRef | undefined;
}

/** Admission is done: the work exists (rows to run, or every answer from the cache). */
export interface AdmittedJob extends Job {
  readonly work: RequestWork;
  readonly preprocessMs: number;
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
    imageRef: undefined,
  };
}

export function hasExplicitId(job: Job): boolean {
  return Boolean(job.msg.headers?.get(Header.MsgId));
}

/** OFA_ERR_DEADLINE_EXCEEDED once the request's deadline has passed at `nowMs`; undefined before (or without one). */
export function pastDeadline(job: Pick<Job, "deadlineMs">, nowMs: number): VerdictError | undefined {
  if (job.deadlineMs === undefined || nowMs <= job.deadlineMs) return undefined;
  return new VerdictError(
    ErrorCode.DEADLINE_EXCEEDED,
    `deadline ${new Date(job.deadlineMs).toISOString()} passed ${nowMs - job.deadlineMs} ms before the request could be served`,
  );
}
