/**
 * Entry of a worker process (forked by the supervisor): waits for its config over IPC, connects to NATS,
 * opens the model (in its own thread), consumes, and answers the supervisor (metrics, drain, heartbeats).
 * SIGTERM/SIGINT reaching a worker directly (Ctrl-C hits the whole process group) also drain it, and so does the
 * supervisor going away (parent-watch.ts): a worker never outlives its supervisor by more than the drain grace.
 */
import { Registry } from "prom-client";
import type { Config } from "../config/index.ts";
import { createLogger, exitAfterFlush, type Logger } from "../log/logger.ts";
import { collectProcessMetrics, createWorkerMetrics } from "../metrics/definitions.ts";
import { Model } from "../model/index.ts";
import { isPermanentStartError } from "../model/providers.ts";
import type { ToWorker } from "../ipc/messages.ts";
import { CLOSE_STEP_MS, WORKER_EXIT_MARGIN_MS } from "../runtime/bounds.ts";
import { within } from "../runtime/within.ts";
import { VerdictCache } from "./cache.ts";
import { connectNats, watchConnection } from "../nats/connect.ts";
import { heartbeatEveryMs } from "../runtime/bounds.ts";
import { sendToSupervisor as send, startHeartbeats, watchParent } from "./parent-watch.ts";
import { EntailmentConsumer, consumerSettings, natsConsumerDeps } from "./consumer.ts";

/** Set once the worker consumes; before that a stop has nothing to hand back and exits at once. */
let drainWorker: ((graceMs: number) => Promise<void>) | undefined;

async function run(config: Config, workerId: number, logger: Logger): Promise<void> {
  const registry = new Registry();
  const metrics = createWorkerMetrics(registry);
  collectProcessMetrics(registry);
  const nc = await connectNats(config, `ofa-entail-worker-${workerId}`);
  metrics.natsConnected.set(1);
  void watchConnection(nc, (up) => {
    metrics.natsConnected.set(up ? 1 : 0);
    logger.warn({ nats: up ? "reconnect" : "disconnect" }, "NATS connection changed");
  });
  const model = await Model.open({
    modelDir: config.modelDir,
    executionProvider: config.executionProvider,
    precision: config.precision,
    intraOpThreads: config.intraOpThreads,
    limits: { maxImagePixels: config.maxImagePixels },
    resize: config.resize,
    preprocessThreads: config.preprocessThreads || 1,
  });
  logger.info({ model: model.info, ...(model.placement ? { placement: model.placement } : {}) }, "model loaded");
  const cache = config.cacheTtlMs > 0 ? await VerdictCache.open(nc).catch(() => undefined) : undefined;
  const consumer = new EntailmentConsumer({
    ...natsConsumerDeps(nc, { model, cache, logger, metrics, settings: consumerSettings(config, workerId) }),
    onHolding: (acks) => send({ kind: "holding", acks }),
  });
  let draining: Promise<void> | undefined;
  drainWorker = (graceMs) =>
    (draining ??= (async () => {
      // The grace runs from now, whatever the broker does: a wedged broker must not hold this process past it.
      setTimeout(() => process.exit(1), graceMs + WORKER_EXIT_MARGIN_MS).unref();
      const leftover = await consumer.drain(graceMs);
      logger.info({ leftover }, "drained");
      await within(nc.drain(), CLOSE_STEP_MS); // flushes acks and publishes before closing
      await within(model.close(), CLOSE_STEP_MS);
      const final = await registry.getMetricsAsJSON().catch(() => undefined); // its counts live on in the supervisor
      send({ kind: "drained", leftover, ...(final ? { metrics: final as never } : {}) });
      exitAfterFlush(logger, 0);
    })());
  process.on("message", (m: ToWorker) => {
    if (m.kind === "drain") void drainWorker?.(m.graceMs);
    if (m.kind === "metrics-request") {
      const depths = consumer.queueDepths;
      metrics.preprocessQueue.set(depths.preprocessing);
      metrics.batchQueue.set(depths.batching);
      void registry.getMetricsAsJSON().then((snapshot) =>
        send({ kind: "metrics", id: m.id, metrics: snapshot as never, held: consumer.heldCount }),
      );
    }
  });
  await consumer.start();
  send({ kind: "ready", model: model.info, ...(model.placement ? { placement: model.placement } : {}) });
  logger.info({ capacity: consumer.capacity }, "consuming");
}

/** Stops the worker: drains what it holds when it consumes, else exits at once. */
function stop(graceMs: number, logger: Logger): void {
  if (drainWorker) void drainWorker(graceMs);
  else exitAfterFlush(logger, 0);
}

process.once("message", (m: ToWorker) => {
  if (m.kind !== "init") return;
  const { config, workerId } = m;
  const logger = createLogger(config.logLevel, { component: "worker", worker: workerId });
  startHeartbeats(heartbeatEveryMs(config.workerSilenceMs));
  watchParent((reason) => {
    logger.warn({ reason, graceMs: config.drainGraceMs }, "supervisor gone: draining and exiting");
    stop(config.drainGraceMs, logger);
  });
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => stop(config.drainGraceMs, logger));
  run(config, workerId, logger).catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const permanent = isPermanentStartError(err);
    if (!permanent) logger.fatal({ err }, "worker failed to start"); // a permanent one is logged once, by the supervisor
    send({ kind: "fatal", message, permanent });
    exitAfterFlush(logger, 1);
  });
});
