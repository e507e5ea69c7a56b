/**
 * The core request-reply front door: `nats req ofa.ve.classify '<envelope>'` works without the SDK. Registered with
 * the NATS services framework, so `$SRV.PING|INFO|STATS` discover it. Each request is fed into the same durable
 * stream with the requester's reply subject as Ofa-Reply-To: the verdict a worker publishes there *is* the reply,
 * and the request gets every guarantee the stream gives (de-duplication, redelivery, dead letters, one verdict per id).
 */
import { randomUUID } from "node:crypto";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Svcm, type Service, type ServiceMsg } from "@nats-io/services";
import type { Logger } from "../log/logger.ts";
import {
  ERROR_SPECS,
  ErrorCode,
  Header,
  LANES,
  Lane,
  SERVICE_NAME,
  SERVICE_SUBJECT,
  payloadHash,
  publishFailureCode,
  publishWithRetry,
  requestIdProblem,
  requestSubject,
  sameRequest,
  waitForStoredVerdict,
  type ErrorVerdict,
} from "@ofa-entail/client/source";
import { encodeVerdict, errorVerdict, replySubjectProblem } from "../protocol/index.ts";
import { VERSION } from "../protocol/version.ts";

/** How long a repeated id waits for the first request's verdict before the front door gives up on it. */
const DUPLICATE_WAIT_MS = 60_000;
/** How long a transient publish failure (no stream leader during an election, a reconnect) is retried when the
 *  request carries no earlier Ofa-Deadline: an election takes seconds, a nats CLI request waits 5 s by default. */
const PUBLISH_RETRY_WINDOW_MS = 10_000;

export async function startFrontDoor(nc: NatsConnection, logger: Logger, replySubjects: readonly string[]): Promise<Service> {
  // @nats-io/services is published only as 3.0.0-25, typed against an older nats-core; it drives the connection
  // through its public API, which is unchanged (test/integration/front-door.test.ts proves it against 3.4).
  const service = await new Svcm(nc as never).add({
    name: SERVICE_NAME,
    version: VERSION,
    description: "Visual entailment: does this image entail this text? Send the v1 envelope; the reply is the verdict.",
  });
  const js = jetstream(nc);
  // No API check: it is a $JS.API.INFO round trip whose failure (JetStream not answering at start) would reject a
  // promise that only a duplicate id ever awaits, an unhandled rejection.
  const jsm = js.jetstreamManager(false);
  service.addEndpoint("classify", {
    subject: SERVICE_SUBJECT,
    metadata: { schema: "asyncapi: GET /asyncapi.json on the admin port" },
    handler: (err, msg) => {
      if (err) return logger.error({ err }, "front door subscription failed");
      void forward(js, jsm, msg, logger, replySubjects).catch((e: unknown) => logger.warn({ err: e }, "front door request failed"));
    },
  });
  return service;
}

/**
 * Feeds one request into the stream. The worker checks the reply subject and id like any other request's, so a bad
 * one gets its typed verdict and dead letter there; the front door itself answers only allow-listed reply subjects.
 * A repeated id (PubAck duplicate) is answered at once with the id's stored verdict, or a conflict.
 */
async function forward(js: JetStreamClient, jsm: Promise<JetStreamManager>, msg: ServiceMsg, logger: Logger, replySubjects: readonly string[]): Promise<void> {
  const id = msg.headers?.get(Header.MsgId) || randomUUID();
  if (!msg.reply) return; // a publish without a reply subject has nobody to answer
  const mayAnswer = replySubjectProblem(msg.reply, replySubjects) === undefined;
  const laneHeader = msg.headers?.get(Header.Lane);
  const lane = LANES.includes(laneHeader as Lane) ? (laneHeader as Lane) : Lane.interactive;
  const h = natsHeaders();
  h.set(Header.ReplyTo, msg.reply);
  const deadline = msg.headers?.get(Header.Deadline);
  if (deadline) h.set(Header.Deadline, deadline);
  let duplicate: boolean;
  try {
    const deadlineMs = Number(deadline);
    const untilMs = Math.min(Date.now() + PUBLISH_RETRY_WINDOW_MS, Number.isSafeInteger(deadlineMs) && deadlineMs > 0 ? deadlineMs : Infinity);
    duplicate = (await publishWithRetry(js, requestSubject(lane), msg.data, { msgID: id, headers: h, untilMs })).duplicate;
  } catch (err) {
    const code = publishFailureCode(err);
    logger.warn({ err, reqId: id, code }, "front door could not enqueue a request");
    if (mayAnswer) respond(msg, errorVerdict(id, code, (err as Error).message));
    return;
  }
  if (!duplicate || !mayAnswer || requestIdProblem(id) !== undefined) return;
  const stored = await waitForStoredVerdict(await jsm, id, Date.now() + DUPLICATE_WAIT_MS);
  if (!stored) return respond(msg, errorVerdict(id, ErrorCode.TIMEOUT, `a request with id ${id} is already queued and was not answered within ${DUPLICATE_WAIT_MS} ms`));
  if (sameRequest(stored, payloadHash(msg.data))) {
    msg.respond(stored.data, (stored.headers ? { headers: stored.headers } : undefined) as never); // two nats-core copies' types
    return;
  }
  respond(msg, errorVerdict(id, ErrorCode.ID_CONFLICT, `id ${JSON.stringify(id)} already has a verdict for a different payload; send new content under a new id`));
}

function respond(msg: ServiceMsg, verdict: ErrorVerdict): void {
  msg.respondError(ERROR_SPECS[verdict.error.code as ErrorCode].status, `${verdict.error.code}: ${verdict.error.message.slice(0, 200)}`, encodeVerdict(verdict));
}
