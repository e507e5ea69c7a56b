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
  type AnyVerdict,
} from "../protocol/index.ts";
import type { Job } from "./job.ts";

export class VerdictPublisher {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
  ) {}

  async publish(job: Job, verdict: AnyVerdict): Promise<void> {
    const data = encodeVerdict(verdict);
    const h = verdictHeaders(verdict);
    if (job.replyTo) this.nc.publish(job.replyTo, data, { headers: h });
    await this.js.publish(verdictSubject(job.id), data, { msgID: `verdict:${job.id}`, headers: h });
  }

  async deadLetter(job: Job, code: string, reason: string): Promise<void> {
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
export function verdictHeaders(verdict: AnyVerdict): MsgHdrs | undefined {
  if (verdict.ok) return undefined;
  const h = natsHeaders();
  const status = isErrorCode(verdict.error.code) ? ERROR_SPECS[verdict.error.code].status : 500;
  h.set(Header.ServiceError, verdict.error.message.slice(0, 256).replace(/[\r\n]/g, " "));
  h.set(Header.ServiceErrorCode, String(status));
  h.set(Header.ErrorCode, verdict.error.code);
  return h;
}
