/**
 * Moves requests that ran out of deliveries to the dead letters. JetStream announces them with a MAX_DELIVERIES
 * advisory; the OFA_VE_ADVISORIES stream captures those, so none is missed while no supervisor runs. For each:
 * read the request (still in the work-queue stream), answer its caller OFA_ERR_MAX_DELIVERIES, write the dead
 * letter with payload and reason, delete the request from the stream, ack the advisory.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg, type StoredMsg } from "@nats-io/jetstream";
import type { Logger } from "../log/logger.ts";
import { VerdictPublisher, type AnswerTarget } from "../nats/publish.ts";
// The one retry policy (a pure module): the mover settles what it answers the way a worker would.
import { isTransient, settleAfterPublish } from "../consumer/settle.ts";
import { ErrorCode, STREAMS, errorVerdict, payloadHash, trustedHeaders } from "../protocol/index.ts";

const MOVER = "ofa-ve-dead-letter-mover";

interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

export class DeadLetterMover {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  private readonly nc: NatsConnection;
  private readonly logger: Logger;
  private readonly onDeadLetter: (code: string) => void;
  private readonly onDeadLetterFailure: (code: string) => void;
  private readonly replySubjects: readonly string[];

  constructor(nc: NatsConnection, logger: Logger, counters: { deadLetter: (code: string) => void; deadLetterFailure: (code: string) => void }, replySubjects: readonly string[]) {
    this.nc = nc;
    this.logger = logger;
    this.onDeadLetter = counters.deadLetter;
    this.onDeadLetterFailure = counters.deadLetterFailure;
    this.replySubjects = replySubjects;
  }

  async start(): Promise<void> {
    const js = jetstream(this.nc);
    const jsm = await jetstreamManager(this.nc);
    const consumer = await js.consumers.get(STREAMS.advisories, MOVER);
    this.messages = await consumer.consume({ max_messages: 16 });
    const publisher = new VerdictPublisher(this.nc, js, (failure) => {
      const { err, ...what } = failure;
      this.onDeadLetterFailure(failure.code);
      this.logger.error({ err, ...what }, failure.final ? "could not write the dead letter; advisory handed back" : "could not write the dead letter; trying again");
    });
    this.loop = (async () => {
      for await (const advisory of this.messages!) await this.handle(advisory, jsm, publisher);
    })();
  }

  private async handle(advisory: JsMsg, jsm: JetStreamManager, publisher: VerdictPublisher): Promise<void> {
    try {
      const event = advisory.json<MaxDeliveriesAdvisory>();
      const stored = await jsm.streams.getMessage(event.stream, { seq: event.stream_seq }).catch(() => null);
      if (stored) {
        // The same checks as a worker's: a reply subject off the allow-list is not published to, a bad id not used.
        const job = answerTarget(stored, event.deliveries, this.replySubjects);
        const reason = `no worker answered after ${event.deliveries} deliveries (consumer ${event.consumer}); the last holder died, hung or kept failing`;
        const term = { kind: "term" as const, code: ErrorCode.MAX_DELIVERIES, message: reason, deadLetter: true };
        // A redelivered advisory may have published this verdict already and then failed to write the dead letter.
        const published = await publisher.publish(job, errorVerdict(job.id, ErrorCode.MAX_DELIVERIES, reason, { deliveries: event.deliveries }));
        const after = settleAfterPublish(term, published, advisory.info.deliveryCount > 1);
        if (after.deadLetter) {
          await publisher.deadLetter(job, after.code, after.message);
          this.onDeadLetter(after.code);
        }
        await jsm.streams.deleteMessage(event.stream, event.stream_seq, false).catch(() => false);
        this.logger.warn({ reqId: job.id, seq: event.stream_seq, deliveries: event.deliveries, code: after.code, replyTo: job.replyTo ? "set" : "none" }, "request moved to dead letters");
      }
      advisory.ack();
    } catch (err) {
      // Only a broker failure is worth another try; anything else would fail the same way on every redelivery.
      if (isTransient(err)) {
        this.logger.error({ err }, "dead-letter move failed; will retry");
        advisory.nak(1_000);
      } else {
        this.logger.error({ err, advisory: advisory.seq }, "dead-letter move failed for good; advisory dropped");
        advisory.term();
      }
    }
  }

  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop?.catch(() => undefined);
  }
}

/** The stored request as the publisher's target: same id rule, reply subject, headers, payload and sequence. */
function answerTarget(stored: StoredMsg, deliveries: number, replySubjects: readonly string[]): AnswerTarget {
  const { id, replyTo } = trustedHeaders(stored.header, stored.seq, replySubjects);
  return {
    id,
    replyTo,
    deliveries,
    payloadHash: payloadHash(stored.data),
    msg: { subject: stored.subject, data: stored.data, headers: stored.header, info: { streamSequence: stored.seq } },
  };
}
