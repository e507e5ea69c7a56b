/**
 * `ofa-entail serve`: owns the embedded broker (when asked), provisions JetStream, moves dead letters, runs and
 * restarts the workers, serves the admin port, and drains on SIGTERM/SIGINT (a second signal exits at once).
 * It never loads the model itself.
 */
import { availableParallelism } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { AggregatorRegistry, Registry } from "prom-client";
import { buildAdmin, type AdminSource } from "../admin/server.ts";
import { EmbeddedBroker, hostPort, isListening } from "../broker/embedded.ts";
import { redactConfig, type Config } from "../config/index.ts";
import { connectNats } from "../nats/connect.ts";
import type { Logger } from "../log/logger.ts";
import { MonotonicFloor } from "../metrics/carry.ts";
import { collectProcessMetrics, createSupervisorMetrics, type SupervisorMetrics } from "../metrics/definitions.ts";
import { LANES, STREAMS, asyncApiDocument, consumerName, type Lane } from "../protocol/index.ts";
import { DeadLetterMover } from "./dead-letters.ts";
import { handBackUnreported } from "./unreported.ts";
import { startFrontDoor } from "./front-door.ts";
import { chooseLayout } from "./layout.ts";
import { modelDefaults, sizeDecodePool } from "./model-defaults.ts";
import { probeVulkanAdapter } from "../model/adapter.ts";
import { WorkerPool } from "./pool.ts";
import { provision } from "./provision.ts";
import { StaleRequestSweeper, settledUpTo } from "./stale-requests.ts";
import { BrokerHealth } from "./broker-health.ts";
import { classifyNatsError } from "../errors/classify-nats.ts";
import { CLOSE_STEP_MS, SHUTDOWN_MARGIN_MS, WORKER_KILL_MARGIN_MS } from "../runtime/bounds.ts";
import { within } from "../runtime/within.ts";

const CONSUMER_POLL_MS = 2_000;
;
import { VERSION } from "../protocol/version.ts";

interface LaneInfo {
  pending: number;
  ackPending: number;
  redelivered: number;
  waiting: number;
}

export class Supervisor {
  private readonly registry = new Registry();
  private readonly metrics: SupervisorMetrics;
  private readonly lanes = new Map<Lane, LaneInfo>();
  /** /metrics never shows a counter lower than it showed before (src/metrics/carry.ts). */
  private readonly floor = new MonotonicFloor();
  private natsUp = true;
  /** Changes on every disconnect and reconnect: a poll started before one reports nothing after it. */
  private connectionEpoch = 0;
  private pollingEpoch: number | undefined;
  private jsm: JetStreamManager | undefined;
  private readonly brokerHealth: BrokerHealth;
  private draining = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private admin: FastifyInstance | undefined;
  private mover: DeadLetterMover | undefined;
  private frontDoor: Awaited<ReturnType<typeof startFrontDoor>> | undefined;
  private sweeper: StaleRequestSweeper | undefined;
  private stopped: Promise<void> | undefined;
  readonly startedAt = new Date();
  adminAddress = "";

  /** As started (a reload without a model directory returns to its modelDir). */
  readonly config: Config;
  /** What serves now, shown by /status: the start-up config with the model directory of the last rollout. */
  private serving: Config;
  private readonly logger: Logger;
  private readonly nc: NatsConnection;
  private readonly broker: EmbeddedBroker | undefined;
  private readonly pool: WorkerPool;
  private constructor(
    config: Config,
    logger: Logger,
    nc: NatsConnection,
    broker: EmbeddedBroker | undefined,
    pool: WorkerPool,
  ) {
    this.config = config;
    this.serving = config;
    this.logger = logger;
    this.nc = nc;
    this.broker = broker;
    this.pool = pool;
    this.metrics = createSupervisorMetrics(this.registry);
    collectProcessMetrics(this.registry);
    this.brokerHealth = new BrokerHealth({
      logger,
      onTimeout: () => this.metrics.jetstreamApiTimeouts.inc(),
      onResponsive: (up) => this.metrics.brokerResponsive.set(up ? 1 : 0),
    });
  }

  static async start(config: Config, logger: Logger): Promise<Supervisor> {
    const broker = await startBrokerIfNeeded(config, logger);
    try {
      return await Supervisor.startWith(config, logger, broker);
    } catch (err) {
      await broker?.stop(); // never leave an orphaned embedded server behind a failed start
      throw err;
    }
  }

  private static async startWith(config: Config, logger: Logger, broker: EmbeddedBroker | undefined): Promise<Supervisor> {
    const nc = await connectNats(config, "ofa-entail-supervisor");
    if (config.provision) {
      const changes = await provision(nc, config);
      logger.info({ changes: changes.filter((c) => c.action !== "none" || Object.keys(c.fields).length > 0).map((c) => `${c.action} ${c.kind} ${c.name} ${Object.keys(c.fields).join(", ")}`.trim()) }, "JetStream provisioned");
    }
    const layout = chooseLayout(availableParallelism(), config);
    const chosen = await modelDefaults(config, availableParallelism(), layout.workers);
    sizeDecodePool(process.env, chosen.preprocessThreads);
    const workerConfig: Config = Object.freeze({ ...config, intraOpThreads: layout.intraOpThreads, maxBatch: chosen.maxBatch, preprocessThreads: chosen.preprocessThreads });
    // webgpu: name the adapter the provider will run on (a software one, lavapipe, is worth a warning).
    const accelerator = config.executionProvider === "webgpu" ? { provider: "webgpu", ...(await probeVulkanAdapter()) } : { provider: config.executionProvider };
    logger.info({ node: process.version, typescript: process.features.typescript, config: redactConfig(config), layout, chosen: chosen.why, accelerator }, "starting");
    if ("adapter" in accelerator && accelerator.adapter.software) {
      logger.warn({ adapter: accelerator.adapter.description }, "webgpu runs on a software Vulkan device (lavapipe): correct, not accelerated");
    }
    const sweepJsm = jetstreamManager(nc, { checkAPI: false });
    const pool = new WorkerPool({
      config: workerConfig,
      size: layout.workers,
      logger,
      handBack: (acks) => handBack(nc, acks, logger),
      handBackUnreported: (live, handedBack) =>
        void sweepJsm
          .then((jsm) => handBackUnreported(nc, jsm, live, handedBack, logger))
          .catch((err: unknown) => logger.warn({ err }, "could not look for a gone worker's unreported deliveries; they are redelivered after the ack wait")),
    });
    const sup = new Supervisor(config, logger, nc, broker, pool);
    sup.accelerator = accelerator;
    pool.on("restart", () => sup.metrics.restarts.inc());
    pool.on("change", () => sup.refreshWorkerGauges());
    sup.metrics.workersDesired.set(layout.workers);
    await sup.run();
    return sup;
  }

  private async run(): Promise<void> {
    void this.watchNats();
    this.mover = new DeadLetterMover(this.nc, this.logger, {
      deadLetter: (code) => this.metrics.deadLetters.inc({ code }),
      deadLetterFailure: (code) => this.metrics.deadLetterFailures.inc({ code }),
    }, this.config.replySubjects);
    await this.mover.start().catch((err: unknown) => this.logger.error({ err }, "dead-letter mover not started"));
    const jsm = await jetstreamManager(this.nc);
    this.jsm = jsm;
    this.sweeper = new StaleRequestSweeper(jsm, this.logger, (n) => this.metrics.staleRequestsRemoved.inc(n));
    await this.pollConsumers(jsm);
    this.pollTimer = setInterval(() => void this.pollConsumers(jsm), CONSUMER_POLL_MS);
    this.pool.start();
    this.frontDoor = await startFrontDoor(this.nc, this.logger, this.config.replySubjects);
    const { host, port } = hostPort(`http://${this.config.adminAddr}`);
    const loopback = ["127.0.0.1", "localhost", "::1"].includes(host);
    this.admin = buildAdmin({ source: this.adminSource(), token: this.config.adminToken, logger: this.logger, loopback });
    if (!loopback && this.config.adminToken === undefined) {
      this.logger.warn({ admin: this.config.adminAddr }, "admin port is reachable beyond loopback without OFA_ADMIN_TOKEN: /metrics and /status are open; POST /model/reload is refused until a token is set");
    }
    this.adminAddress = await this.admin.listen({ host, port });
    this.logger.info({ admin: this.adminAddress }, "admin listening");
  }

  private async watchNats(): Promise<void> {
    this.metrics.natsConnected.set(1);
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect") {
        this.natsUp = false;
        this.connectionEpoch += 1;
      }
      if (s.type === "reconnect") {
        this.natsUp = true;
        // Readiness is earned again: what was polled before the outage is stale, and a poll that was waiting through
        // it would report its timeout after the reconnect (measured: 200, then 503 for ~2 s, 5 s after a restart).
        this.connectionEpoch += 1;
        this.lanes.clear();
        this.sweeper?.rewind(); // a restarted broker may bring back requests whose removal it had not written
        if (this.jsm && !this.draining) void this.pollConsumers(this.jsm);
      }
      this.metrics.natsConnected.set(this.natsUp ? 1 : 0);
    }
  }

  private async pollConsumers(jsm: JetStreamManager): Promise<void> {
    const epoch = this.connectionEpoch;
    if (this.pollingEpoch === epoch) return; // one poll at a time (a call may wait out its timeout)
    this.pollingEpoch = epoch;
    try {
      await this.pollOnce(jsm, epoch);
    } finally {
      if (this.pollingEpoch === epoch) this.pollingEpoch = undefined;
    }
  }

  private async pollOnce(jsm: JetStreamManager, epoch: number): Promise<void> {
    const ackFloors: number[] = [];
    for (const lane of LANES) {
      try {
        const info = await jsm.consumers.info(STREAMS.requests, consumerName(lane));
        if (epoch !== this.connectionEpoch) return;
        this.brokerHealth.answered();
        ackFloors.push(settledUpTo(info));
        this.lanes.set(lane, { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered, waiting: info.num_waiting });
        this.metrics.pending.set({ lane }, info.num_pending);
        this.metrics.ackPending.set({ lane }, info.num_ack_pending);
      } catch (err) {
        if (epoch !== this.connectionEpoch) return;
        this.brokerHealth.failed(err);
        // A timeout or an election says nothing about the consumer: it is unbound only when the broker says so.
        if (classifyNatsError(err) !== "transient") this.lanes.delete(lane);
      }
    }
    if (ackFloors.length === LANES.length && !this.draining) {
      await this.sweeper?.sweep(Math.min(...ackFloors)).catch((err: unknown) => this.logger.warn({ err }, "stale request sweep failed; retrying on the next poll"));
    }
  }

  private refreshWorkerGauges(): void {
    const workers = this.pool.view();
    this.metrics.workersReady.set(workers.filter((w) => w.state === "ready").length);
    this.metrics.workersFailed.set(workers.filter((w) => w.state === "failed").length);
    this.metrics.workersUnresponsive.set(workers.filter((w) => w.state !== "exited" && !w.responsive).length);
    const model = workers.find((w) => w.model)?.model;
    if (model) {
      this.metrics.modelInfo.reset();
      this.metrics.modelInfo.set({ name: model.name, version: model.version }, 1);
    }
  }

  private adminSource(): AdminSource {
    return {
      health: () => {
        const workers = this.pool.view();
        const alive = this.draining || workers.some((w) => w.state !== "exited");
        return { alive, reasons: alive ? [] : ["every worker has exited (restarts pending)"] };
      },
      readiness: () => this.readiness(),
      metrics: async () => {
        const snapshots = await this.pool.collectMetrics();
        const merged = AggregatorRegistry.aggregate([await this.registry.getMetricsAsJSON(), ...snapshots] as never);
        const floored = AggregatorRegistry.aggregate([this.floor.apply((await merged.getMetricsAsJSON()) as never)] as never);
        return { contentType: floored.contentType, body: await floored.metrics() };
      },
      status: async () => this.status(),
      reloadModel: (modelDir) => this.reloadModel(modelDir),
      asyncApi: () => asyncApiDocument(VERSION),
    };
  }

  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (this.draining) reasons.push("draining");
    if (!this.natsUp || this.nc.isClosed()) reasons.push("NATS disconnected");
    const silent = this.brokerHealth.reason();
    if (silent) reasons.push(silent);
    const unbound = LANES.filter((l) => !this.lanes.has(l));
    if (unbound.length > 0) reasons.push(`request consumers not bound: ${unbound.map(consumerName).join(", ")}`);
    const workers = this.pool.view();
    const ready = workers.filter((w) => w.state === "ready");
    if (ready.length === 0) {
      const failures = new Set(workers.flatMap((w) => (w.failure === undefined ? [] : [w.failure])));
      reasons.push(...failures, ...(failures.size ? [] : ["no worker has a model loaded yet"]));
    } else if (!ready.some((w) => w.responsive)) {
      const silent = ready.map((w) => `w${w.id} silent for ${w.silentForMs} ms`).join(", ");
      reasons.push(`no worker responsive (no heartbeat for over ${this.config.workerSilenceMs} ms: ${silent})`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  /** The execution provider and, for webgpu, the Vulkan adapter it runs on (adapter.ts); set once at start. */
  accelerator: Record<string, unknown> = {};

  async status(): Promise<Record<string, unknown>> {
    const workers = this.pool.view();
    return {
      service: "ofa-entail",
      version: VERSION,
      startedAt: this.startedAt.toISOString(),
      state: this.draining ? "draining" : "running",
      readiness: this.readiness(),
      nats: { connected: this.natsUp, server: this.nc.getServer(), embedded: this.broker !== undefined },
      model: workers.find((w) => w.model)?.model ?? null,
      accelerator: this.accelerator,
      workers,
      consumers: Object.fromEntries(LANES.map((l) => [consumerName(l), this.lanes.get(l) ?? null])),
      config: redactConfig(this.serving),
    };
  }

  private rolling: Promise<{ ok: boolean; reason?: string; model?: unknown }> | undefined;
  /** SIGHUPs received while a rollout ran: they are answered by one more rollout once it ends. */
  private hangupsWaiting = 0;

  /** Rolls every worker onto the model in `modelDir` (default: the configured one, re-read). One rollout at a time. */
  async reloadModel(modelDir = this.config.modelDir): Promise<{ ok: boolean; reason?: string; model?: unknown }> {
    if (this.draining) return { ok: false, reason: "draining" };
    if (this.rolling) return { ok: false, reason: "a model rollout is already running" };
    this.logger.info({ modelDir }, "model rollout started");
    this.rolling = this.pool.rollout(modelDir);
    try {
      const result = await this.rolling;
      if (result.ok) {
        this.serving = Object.freeze({ ...this.serving, modelDir });
        this.logger.info({ model: result.model }, "model rollout done");
      }
      else this.logger.error({ modelDir, reason: result.reason }, "model rollout refused; the previous model keeps serving");
      return result;
    } finally {
      this.rolling = undefined;
      this.afterRollout();
    }
  }

  /**
   * SIGHUP: roll the workers onto the configured model directory, re-read. Every SIGHUP gets one log line. Those that
   * arrive while a rollout runs are coalesced into one more rollout after it (the directory may have changed since that
   * rollout read it); a storm of them costs at most that one.
   */
  hangup(): void {
    if (this.draining) return this.logger.info({ signal: "SIGHUP" }, "SIGHUP ignored: draining");
    if (this.rolling) {
      this.hangupsWaiting += 1;
      this.logger.info({ signal: "SIGHUP", coalesced: this.hangupsWaiting }, "SIGHUP during a model rollout: coalesced into one more rollout after it");
      return;
    }
    this.logger.info({ signal: "SIGHUP", modelDir: this.config.modelDir }, "SIGHUP: rolling the workers onto the configured model");
    void this.reloadModel();
  }

  private afterRollout(): void {
    if (this.hangupsWaiting === 0 || this.draining) return;
    const coalesced = this.hangupsWaiting;
    this.hangupsWaiting = 0;
    this.logger.info({ coalesced, modelDir: this.config.modelDir }, "rolling again for the SIGHUPs received during the rollout");
    void this.reloadModel();
  }

  /** Drains: stop taking work, let workers finish and ack, then close. Idempotent. */
  shutdown(): Promise<void> {
    this.stopped ??= this.doShutdown();
    return this.stopped;
  }

  /**
   * The grace counts from the signal, and every step that talks to the broker is bounded: with the broker wedged or
   * gone this still ends within the grace + SHUTDOWN_MARGIN_MS (src/runtime/bounds.ts).
   */
  private async doShutdown(): Promise<void> {
    this.draining = true;
    const graceEndsAt = Date.now() + this.config.drainGraceMs;
    const endsAt = graceEndsAt + SHUTDOWN_MARGIN_MS - 3 * CLOSE_STEP_MS / 2; // leaves room for the broker and the log flush
    const left = (until: number) => Math.max(0, until - Date.now());
    this.logger.info({ graceMs: this.config.drainGraceMs }, "draining");
    clearInterval(this.pollTimer);
    if (this.frontDoor) await within(this.frontDoor.stop(), Math.min(CLOSE_STEP_MS, left(graceEndsAt))); // stop taking core requests first
    await this.pool.drain(left(graceEndsAt), WORKER_KILL_MARGIN_MS);
    if (this.mover) await within(this.mover.stop(), Math.min(CLOSE_STEP_MS, left(endsAt)));
    if (this.admin) await within(this.admin.close(), Math.min(CLOSE_STEP_MS, left(endsAt)));
    if (!(await within(this.nc.drain(), Math.min(CLOSE_STEP_MS, left(endsAt))))) void this.nc.close().catch(() => undefined);
    if (this.broker) await within(this.broker.stop(), left(endsAt + CLOSE_STEP_MS / 2));
    this.logger.info("stopped");
  }

  /** Second signal, or the shutdown ran past its bound: no more waiting. */
  forceExit(): void {
    this.pool.killAll();
    this.broker?.kill();
    this.logger.warn("exiting now");
  }
}

/**
 * Naks requests by the ack subjects of their deliveries (a dead worker's): JetStream takes an ack from any
 * connection, so the supervisor hands them back at once instead of the ack wait. One a message, flushed; a failure
 * only leaves them to the ack wait, as before.
 */
function handBack(nc: NatsConnection, acks: readonly string[], logger: Logger): void {
  try {
    for (const ack of acks) if (ack.startsWith("$JS.ACK.")) nc.publish(ack, "-NAK");
    void nc.flush().catch(() => undefined);
  } catch (err) {
    logger.warn({ err, requests: acks.length }, "could not hand a gone worker's requests back; they are redelivered after the ack wait");
  }
}

async function startBrokerIfNeeded(config: Config, logger: Logger): Promise<EmbeddedBroker | undefined> {
  if (!config.embedded) return undefined;
  const first = config.natsUrl[0]!;
  const { host, port } = hostPort(first);
  if (await isListening(host, port)) return undefined;
  const broker = await EmbeddedBroker.start(first, config.dataDir);
  logger.info({ url: first, brokerPid: broker.pid, config: broker.configPath }, "no NATS server answered: started an embedded nats-server");
  return broker;
}
