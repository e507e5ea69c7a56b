/**
 * The consumer as a library: a worker's consumer over a connection the caller opened, with the model it is given,
 * its logger and metrics wired as the worker process (main.ts) wires them. bench/overhead-probe.ts runs it with a
 * stub model to measure what the bus and the protocol cost per verdict; the streams must exist (`ofa-entail provision`).
 */
import { Registry } from "prom-client";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../config/index.ts";
import { createLogger } from "../log/logger.ts";
import { collectProcessMetrics, createWorkerMetrics } from "../metrics/definitions.ts";
import { EntailmentConsumer, consumerSettings, natsConsumerDeps, type ConsumerModel } from "./consumer.ts";

export type { ConsumerModel } from "./consumer.ts";

/** Starts consuming both lanes as worker `workerId` (verdict cache off); drain it with `drain(graceMs)`. */
export async function startConsumer(nc: NatsConnection, config: Config, model: ConsumerModel, workerId = 1): Promise<Pick<EntailmentConsumer, "drain">> {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const consumer = new EntailmentConsumer(
    natsConsumerDeps(nc, {
      model,
      cache: undefined,
      logger: createLogger(config.logLevel, { component: "worker", worker: workerId }),
      metrics: createWorkerMetrics(registry),
      settings: consumerSettings(config, workerId),
    }),
  );
  await consumer.start();
  return consumer;
}
