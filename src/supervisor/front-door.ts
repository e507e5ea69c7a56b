/**
 * The core request-reply front door: `nats req ofa.ve.classify '<envelope>'` works without the SDK. Registered with
 * the NATS services framework, so `$SRV.PING|INFO|STATS` discover it. Each request is fed into the same durable
 * stream with the requester's reply subject as Ofa-Reply-To: the verdict a worker publishes there *is* the reply,
 * and the request gets every guarantee the stream gives (de-duplication, redelivery, dead letters).
 */
import { randomUUID } from "node:crypto";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
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
  encodeVerdict,
  errorVerdict,
  requestSubject,
} from "../protocol/index.ts";
import { classifyNatsError } from "../errors/classify-nats.ts";
import { VERSION } from "../protocol/version.ts";

export async function startFrontDoor(nc: NatsConnection, logger: Logger): Promise<Service> {
  // @nats-io/services is published only as 3.0.0-25, typed against an older nats-core; it drives the connection
  // through its public API, which is unchanged (test/integration/front-door.test.ts proves it against 3.4).
  const service = await new Svcm(nc as never).add({
    name: SERVICE_NAME,
    version: VERSION,
    description: "Visual entailment: does this image entail this text? Send the v1 envelope; the reply is the verdict.",
  });
  const js = jetstream(nc);
  service.addEndpoint("classify", {
    subject: SERVICE_SUBJECT,
    metadata: { schema: "asyncapi: GET /asyncapi.json on the admin port" },
    handler: (err, msg) => {
      if (err) return logger.error({ err }, "front door subscription failed");
      void forward(js, msg, logger);
    },
  });
  return service;
}

async function forward(js: ReturnType<typeof jetstream>, msg: ServiceMsg, logger: Logger): Promise<void> {
  const id = msg.headers?.get(Header.MsgId) || randomUUID();
  if (!msg.reply) return; // a publish without a reply subject has nobody to answer
  const laneHeader = msg.headers?.get(Header.Lane);
  const lane = LANES.includes(laneHeader as Lane) ? (laneHeader as Lane) : Lane.interactive;
  const h = natsHeaders();
  h.set(Header.ReplyTo, msg.reply);
  const deadline = msg.headers?.get(Header.Deadline);
  if (deadline) h.set(Header.Deadline, deadline);
  try {
    await js.publish(requestSubject(lane), msg.data, { msgID: id, headers: h });
  } catch (err) {
    const code = classifyNatsError(err) === "full" ? ErrorCode.OVERLOADED : ErrorCode.INTERNAL;
    logger.warn({ err, reqId: id }, "front door could not enqueue a request");
    msg.respondError(ERROR_SPECS[code].status, `${code}: ${(err as Error).message}`, encodeVerdict(errorVerdict(id, code, (err as Error).message)));
  }
}
