/**
 * Publishes a verdict to the caller's reply subject (core NATS) and to the verdict stream (awaiting its PubAck),
 * and dead letters to the dead-letter stream. The caller acks the request only after these resolve.
 * Verdict-stream and dead-letter publishes carry the request id as Nats-Msg-Id, so a redelivered request that is
 * answered twice still leaves one verdict and one dead letter.
 */
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { JetStreamClient } from "@nats-io/jetstream";
import {
  ERROR_SPECS,
  Header,
  STREAMS,
  deadLetterRecord,
  deadLetterSubject,
  encodeVerdict,
  isErrorCode,
  verdictSubject,
  type Verdict,
} from "../protocol/index.ts";

/**
 * What answering a request needs, and no more: its id, who asked, how often it was delivered, and the request as the
 * stream holds it. A consumer's Job (holding a JsMsg) is one; the dead-letter mover builds one from a stored message.
 */
export interface AnswerTarget {
  readonly id: string;
  readonly replyTo: string | undefined;
  readonly deliveries: number;
  readonly msg: {
    readonly subject: string;
    readonly data: Uint8Array;
    readonly headers?: MsgHdrs | undefined;
    readonly info: { readonly streamSequence: number };
  };
}

/** A request's id: its Nats-Msg-Id, else `seq-<stream sequence>` (the consumer may learn a better one from the body). */
export function requestIdOf(headers: MsgHdrs | undefined, streamSequence: number): string {
  return headers?.get(Header.MsgId) || `seq-${streamSequence}`;
}

export class VerdictPublisher {
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  constructor(
    nc: NatsConnection,
    js: JetStreamClient,
  ) {
    this.nc = nc;
    this.js = js;
  }

  async publish(job: AnswerTarget, verdict: Verdict): Promise<void> {
    const data = encodeVerdict(verdict);
    const h = verdictHeaders(verdict);
    if (job.replyTo) this.nc.publish(job.replyTo, data, { headers: h });
    await this.js.publish(verdictSubject(job.id), data, { msgID: `verdict:${job.id}`, headers: h });
  }

  async deadLetter(job: AnswerTarget, code: string, reason: string): Promise<void> {
    const record = deadLetterRecord(
      {
        id: job.id,
        deliveries: job.deliveries,
        stream: STREAMS.requests,
        streamSeq: job.msg.info.streamSequence,
        subject: job.msg.subject,
        headers: job.msg.headers,
        payload: job.msg.data,
      },
      code,
      reason,
    );
    await this.js.publish(deadLetterSubject(code), JSON.stringify(record), { msgID: `dlq:${job.id}` });
  }
}

/** NATS-micro error headers (Nats-Service-Error / -Code) plus our stable code, on error verdicts only. */
export function verdictHeaders(verdict: Verdict): MsgHdrs | undefined {
  if (verdict.ok) return undefined;
  const h = natsHeaders();
  const status = isErrorCode(verdict.error.code) ? ERROR_SPECS[verdict.error.code].status : 500;
  h.set(Header.ServiceError, verdict.error.message.slice(0, 256).replace(/[\r\n]/g, " "));
  h.set(Header.ServiceErrorCode, String(status));
  h.set(Header.ErrorCode, verdict.error.code);
  return h;
}
