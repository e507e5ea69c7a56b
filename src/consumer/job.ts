/** One request as a worker holds it: the JetStream message plus what the worker learnt about it. */
import type { JsMsg } from "@nats-io/jetstream";
import { Header, parseDeadlineMs, type ImageRef, type Lane } from "../protocol/index.ts";
import type { RequestWork } from "./work.ts";

export interface Job {
  readonly msg: JsMsg;
  readonly lane: Lane;
  /** Nats-Msg-Id, else the envelope's id, else `seq-<stream sequence>` (set once the body is parsed). */
  id: string;
  readonly replyTo: string | undefined;
  deadlineMs: number | undefined;
  readonly deliveries: number;
  readonly publishedAtMs: number;
  readonly receivedAtMs: number;
  preprocessMs: number;
  readyAtMs: number;
  /** The rows still to run (set at admission). */
  work: RequestWork | undefined;
  imageRef: ImageRef | undefined;
  cacheKey: string | undefined;
}

export function jobFromMessage(msg: JsMsg, lane: Lane, nowMs: number): Job {
  const headerId = msg.headers?.get(Header.MsgId) || undefined;
  return {
    msg,
    lane,
    id: headerId ?? `seq-${msg.info.streamSequence}`,
    replyTo: msg.headers?.get(Header.ReplyTo) || undefined,
    deadlineMs: parseDeadlineMs(msg.headers?.get(Header.Deadline)),
    deliveries: msg.info.deliveryCount,
    publishedAtMs: Math.floor(Number(msg.info.timestampNanos) / 1e6),
    receivedAtMs: nowMs,
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
