/**
 * Entry of a worker process (forked by the supervisor): waits for its config over IPC, connects to NATS,
 * opens the model (in its own thread), consumes, and answers the supervisor (metrics, drain).
 * SIGTERM/SIGINT reaching a worker directly (Ctrl-C hits the whole process group) also drain it.
 */
import { Registry } from "prom-client";
import type { Config } from "../config/index.ts";
import { createLogger, exitAfterFlush, type Logger } from "../log/logger.ts";
import { collectProcessMetrics, createWorkerMetrics } from "../metrics/definitions.ts";
import { Model } from "../model/index.ts";
import { isPermanentStartError } from "../model/providers.ts";
import type { FromWorker, ToWorker } from "../ipc/messages.ts";
import { VerdictCache } from "./cache.ts";
import { connectNats } from "../nats/connect.ts";
import { EntailmentConsumer, consumerSettings } from "./worker.ts";

function send(message: FromWorker): void {
  process.send?.(message);
}

async function run(config: Config, workerId: number): Promise<void> {
  const logger = createLogger(config.logLevel, { component: "worker", worker: workerId });
  const registry = new Registry();
  const metrics = createWorkerMetrics(registry);
  collectProcessMetrics(registry);
  const nc = await connectNats(config, `ofa-entail-worker-${workerId}`);
  metrics.natsConnected.set(1);
  void watchConnection(nc.status(), (up) => metrics.natsConnected.set(up ? 1 : 0), logger);
  const model = await Model.open({
    modelDir: config.modelDir,
    executionProvider: config.executionProvider,
    precision: config.precision,
    intraOpThreads: config.intraOpThreads,
    limits: { maxImagePixels: config.maxImagePixels },
    resize: config.resize,
    preprocessThreads: config.preprocessThreads || 1,
  });
  logger.info({ model: model.info }, "model loaded");
  const cache = config.cacheTtlMs > 0 ? await VerdictCache.open(nc).catch(() => undefined) : undefined;
  const consumer = new EntailmentConsumer({
    nc,
    model,
    cache,
    logger,
    metrics,
    settings: consumerSettings(config, workerId),
  });
  const drain = async (graceMs: number) => {
    const leftover = await consumer.drain(graceMs);
    logger.info({ leftover }, "drained");
    await nc.drain().catch(() => undefined); // flushes acks and publishes before closing
    await model.close();
    send({ kind: "drained", leftover });
    exitAfterFlush(logger, 0);
  };
  process.on("message", (m: ToWorker) => {
    if (m.kind === "drain") void drain(m.graceMs);
    if (m.kind === "metrics-request") {
      const depths = consumer.queueDepths;
      metrics.preprocessQueue.set(depths.preprocessing);
      metrics.batchQueue.set(depths.batching);
      void registry.getMetricsAsJSON().then((snapshot) =>
        send({ kind: "metrics", id: m.id, metrics: snapshot as never, held: consumer.heldCount, state: consumer.state }),
      );
    }
  });
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => void drain(config.drainGraceMs));
  await consumer.start();
  send({ kind: "ready", model: model.info });
  logger.info({ capacity: consumer.capacity }, "consuming");
}

async function watchConnection(status: AsyncIterable<{ type: string }>, set: (up: boolean) => void, logger: Logger): Promise<void> {
  for await (const s of status) {
    if (s.type === "disconnect") set(false);
    if (s.type === "reconnect") set(true);
    if (s.type === "disconnect" || s.type === "reconnect") logger.warn({ nats: s.type }, "NATS connection changed");
  }
}

process.once("message", (m: ToWorker) => {
  if (m.kind !== "init") return;
  run(m.config, m.workerId).catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const logger = createLogger("error", { component: "worker", worker: m.workerId });
    const permanent = isPermanentStartError(err);
    if (!permanent) logger.fatal({ err }, "worker failed to start"); // a permanent one is logged once, by the supervisor
    send({ kind: "fatal", message, permanent });
    exitAfterFlush(logger, 1);
  });
});
