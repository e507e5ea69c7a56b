/**
 * Publishes a verdict to the verdict stream (awaiting its PubAck), then to the caller's reply subject (core NATS),
 * and dead letters to the dead-letter stream. The caller acks the request only after these resolve.
 * One verdict per id: the verdict-stream publish expects the id's subject to be empty (Nats-Expected-Last-Subject-
 * Sequence: 0), so no timing — a redelivery after a lost ack, a repeat after the de-duplication window — can store a
 * second one. When the id already has a verdict, the caller gets that one if it answered the same payload (the verdict
 * carries the payload's sha256), or OFA_ERR_ID_CONFLICT (sent to the reply subject only; the stored one stays).
 * The reply subject was checked against the allow-list when the job was made (job.ts); only then is it set.
 */
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { JetStreamApiCodes, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import {
  ERROR_SPECS,
  ErrorCode,
  Header,
  OfaError,
  STREAMS,
  deadLetterRecord,
  deadLetterSubject,
  encodeVerdict,
  errorVerdict,
  isErrorCode,
  sameRequest,
  storedVerdict,
  verdictSubject,
  type AnyVerdict,
} from "../protocol/index.ts";

/**
 * What answering a request needs, and no more: its id, who asked, how often it was delivered, the sha256 of its
 * payload, and the request as the stream holds it. A consumer's Job (holding a JsMsg) is one; the dead-letter mover
 * builds one from a stored message.
 */
export interface AnswerTarget {
  readonly id: string;
  readonly replyTo: string | undefined;
  readonly deliveries: number;
  /** Hex sha256 of the request payload: tells a repeat of the same request from another one under the same id. */
  readonly payloadHash: string;
  readonly msg: {
    readonly subject: string;
    readonly data: Uint8Array;
    readonly headers?: MsgHdrs | undefined;
    readonly info: { readonly streamSequence: number };
  };
}

/** What a verdict publish did: stored a new verdict, answered with the stored one, or refused a different payload. */
export type Published = "new" | "existing" | "conflict";

/** Room kept in a message beside the dead-letter record's JSON: the Nats-Msg-Id header (`dlq:` + an id of at most
 *  128 characters) and the protocol's framing. */
const DEAD_LETTER_MESSAGE_MARGIN_BYTES = 1024;
/** A dead-letter publish that fails is tried again after these delays, then the failure goes to the caller. */
const DEAD_LETTER_RETRY_MS = [250, 1_000];

/** One failed attempt to write a dead letter: what was being written, and why it failed. */
export interface DeadLetterFailure {
  readonly id: string;
  readonly code: string;
  readonly streamSeq: number;
  readonly recordBytes: number;
  readonly maxPayload: number;
  readonly attempt: number;
  /** No attempt is left: the error goes to the caller (a worker hands the request back). */
  readonly final: boolean;
  readonly err: unknown;
}

export class VerdictPublisher {
  private jsm: Promise<JetStreamManager> | undefined;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  private readonly onDeadLetterFailure: (failure: DeadLetterFailure) => void;

  /** `onDeadLetterFailure` counts and logs every failed dead-letter attempt (the owner has the metrics and logger). */
  constructor(nc: NatsConnection, js: JetStreamClient, onDeadLetterFailure: (failure: DeadLetterFailure) => void = () => undefined) {
    this.nc = nc;
    this.js = js;
    this.onDeadLetterFailure = onDeadLetterFailure;
  }

  async publish(job: AnswerTarget, verdict: AnyVerdict): Promise<Published> {
    const h = verdictHeaders(verdict);
    h.set(Header.RequestHash, job.payloadHash);
    const data = encodeVerdict(verdict);
    let stored;
    try {
      const ack = await this.js.publish(verdictSubject(job.id), data, { msgID: `verdict:${job.id}`, headers: h, expect: { lastSubjectSequence: 0 } });
      if (!ack.duplicate) {
        this.reply(job, data, h);
        return "new";
      }
    } catch (err) {
      // "wrong last sequence": the id's verdict subject already holds a verdict
      if ((err as { code?: unknown }).code !== JetStreamApiCodes.StreamWrongLastSequence) throw err;
    }
    // A duplicate publish (within the window) or a verdict already on the subject (after it): answer with that one.
    this.jsm ??= this.js.jetstreamManager();
    stored = await storedVerdict(await this.jsm, job.id);
    // Retryable: the stored one may have aged out between the refusal and the read.
    if (!stored) throw new OfaError(ErrorCode.INTERNAL, `the verdict stream refused a second verdict for ${job.id} but holds none`);
    if (sameRequest(stored, job.payloadHash)) {
      this.reply(job, stored.data, stored.headers);
      return "existing";
    }
    const conflict = errorVerdict(job.id, ErrorCode.ID_CONFLICT, `id ${JSON.stringify(job.id)} already has a verdict for a different payload; send new content under a new id`);
    const ch = verdictHeaders(conflict);
    ch.set(Header.RequestHash, job.payloadHash); // the request this conflict answers: the SDK matches replies by it
    this.reply(job, encodeVerdict(conflict), ch);
    return "conflict";
  }

  /** Core publish to the caller's (allow-listed) reply subject; a failure here must never cost the verdict. */
  private reply(job: AnswerTarget, data: Uint8Array, h: MsgHdrs | undefined): void {
    if (!job.replyTo) return;
    try {
      this.nc.publish(job.replyTo, data, h ? { headers: h } : undefined);
    } catch {
      // the verdict is in the verdict stream; the caller's SDK reads it from there
    }
  }

  /**
   * Writes the dead letter: a record bounded to fit one message (src/protocol/dead-letter.ts), so no request can make
   * it unpublishable; a failed publish is reported and tried again, and the last failure is thrown.
   */
  async deadLetter(job: AnswerTarget, code: string, reason: string): Promise<void> {
    const maxPayload = this.nc.info?.max_payload ?? 1024 * 1024;
    const record = deadLetterRecord(
      {
        id: job.id,
        deliveries: job.deliveries,
        stream: STREAMS.requests,
        streamSeq: job.msg.info.streamSequence,
        subject: job.msg.subject,
        headers: job.msg.headers,
        payload: job.msg.data,
        payloadSha256: job.payloadHash,
      },
      code,
      reason,
      maxPayload - DEAD_LETTER_MESSAGE_MARGIN_BYTES,
    );
    const data = new TextEncoder().encode(JSON.stringify(record));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.js.publish(deadLetterSubject(code), data, { msgID: `dlq:${job.id}` });
        return;
      } catch (err) {
        const final = attempt > DEAD_LETTER_RETRY_MS.length;
        this.onDeadLetterFailure({ id: job.id, code, streamSeq: job.msg.info.streamSequence, recordBytes: data.byteLength, maxPayload, attempt, final, err });
        if (final) throw err;
        await new Promise((resolve) => setTimeout(resolve, DEAD_LETTER_RETRY_MS[attempt - 1]));
      }
    }
  }
}

/** NATS-micro error headers (Nats-Service-Error / -Code) plus our stable code on error verdicts; empty on ok ones. */
function verdictHeaders(verdict: AnyVerdict): MsgHdrs {
  const h = natsHeaders();
  if (verdict.ok) return h;
  const status = isErrorCode(verdict.error.code) ? ERROR_SPECS[verdict.error.code].status : 500;
  h.set(Header.ServiceError, verdict.error.message.slice(0, 256).replace(/[^\x20-\x7e]/g, "?"));
  h.set(Header.ServiceErrorCode, String(status));
  h.set(Header.ErrorCode, verdict.error.code);
  return h;
}
