/**
 * The worker processes: N slots, each holding one WorkerHandle (worker-handle.ts, the one owner of a process).
 * The pool starts them, restarts a crashed one with backoff, swaps in a new one during a model rollout, drains them
 * all, and emits `change` (a worker's state changed) and `restart` (a crashed worker is being restarted).
 * When a worker ends without draining (killed, crashed), the requests it reported holding are handed back at once
 * (`handBack`: the supervisor naks them), so no caller waits an ack wait for a replaced worker; its last metrics are
 * carried (src/metrics/carry.ts), so counters never fall.
 */
import { EventEmitter } from "node:events";
import type { Config } from "../config/index.ts";
import type { Logger } from "../log/logger.ts";
import { CarriedTotals, monotonicPart } from "../metrics/carry.ts";
import type { ModelInfo } from "../protocol/verdict.ts";
import { WORKER_PULL_EXPIRES_MS, type WorkerMetricsSnapshot } from "../ipc/messages.ts";
import { restartDelayMs, STABLE_AFTER_MS } from "./backoff.ts";
import type { Placement } from "../model/index.ts";
import { heartbeatEveryMs } from "../runtime/bounds.ts";
import { judgeSilence } from "./silence.ts";
import { NOT_READY_IN_TIME, WorkerHandle, type WorkerExit } from "./worker-handle.ts";

const METRICS_TIMEOUT_MS = 2_000;
/**
 * How often the pool takes every worker's metrics even without a scrape: a worker killed with SIGKILL loses at
 * most the counts since the later of its last scrape and this poll (a drained worker loses none: it sends its last).
 */
const METRICS_KEEP_EVERY_MS = 15_000;
/** A gone worker's requests are handed back once its last pull has expired (see WORKER_PULL_EXPIRES_MS). */
const HAND_BACK_AFTER_MS = WORKER_PULL_EXPIRES_MS + 500;
/** Bound on a retired worker's drain past the grace before it is killed. */
const RETIRE_FORCE_MS = 5_000;

/** failed: stopped by a start-up failure a restart cannot heal; not restarted (WorkerView.failure says why). */
type WorkerState = "starting" | "ready" | "draining" | "exited" | "failed";

export interface WorkerView {
  readonly id: number;
  readonly pid: number | undefined;
  readonly state: WorkerState;
  readonly restarts: number;
  readonly model: ModelInfo | undefined;
  readonly held: number;
  readonly startedAt: string;
  readonly failure?: string;
  /** False while the worker has not heartbeated for longer than OFA_WORKER_SILENCE_MS. */
  readonly responsive: boolean;
  readonly silentForMs: number;
  /** Where a GPU provider put the model's nodes (how many fell back to the CPU); absent on the CPU provider. */
  readonly placement?: Placement;
}

interface WorkerSlot {
  readonly id: number;
  handle: WorkerHandle | undefined;
  restarts: number;
  consecutiveCrashes: number;
  restartTimer: NodeJS.Timeout | undefined;
  failure: string | undefined;
  silent: boolean;
}

export interface PoolDeps {
  readonly config: Config;
  readonly size: number;
  readonly logger: Logger;
  /** Hands requests back to JetStream for immediate redelivery, by the ack subjects of their deliveries. */
  readonly handBack: (acks: readonly string[]) => void;
  /**
   * After a worker ended without draining: hands back what it held without having reported it (unreported.ts),
   * leaving alone what the live workers report (`liveHolding`) and what was just handed back.
   */
  readonly handBackUnreported?: (liveHolding: () => readonly string[], handedBack: readonly string[]) => void;
}

export class WorkerPool extends EventEmitter<{ change: []; restart: [] }> {
  private readonly slots: WorkerSlot[] = [];
  private draining = false;
  private silenceTimer: NodeJS.Timeout | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  private readonly carried = new CarriedTotals();
  private readonly loggedFailures = new Set<string>();
  private config: Config;
  private readonly deps: PoolDeps;

  constructor(deps: PoolDeps) {
    super();
    this.deps = deps;
    this.config = deps.config;
  }

  start(): void {
    for (let id = 1; id <= this.deps.size; id++) {
      const slot: WorkerSlot = { id, handle: undefined, restarts: 0, consecutiveCrashes: 0, restartTimer: undefined, failure: undefined, silent: false };
      this.slots.push(slot);
      this.spawn(slot);
    }
    this.silenceTimer = setInterval(() => this.checkSilence(), heartbeatEveryMs(this.config.workerSilenceMs)); // looks as often as workers beat
    this.silenceTimer.unref();
    this.metricsTimer = setInterval(() => void this.collectMetrics(), METRICS_KEEP_EVERY_MS);
    this.metricsTimer.unref();
  }

  private startHandle(id: number, config: Config): WorkerHandle {
    const handle = new WorkerHandle({ id, config, readyTimeoutMs: config.workerReadyTimeoutMs });
    this.deps.logger.info({ worker: id, workerPid: handle.pid }, "worker started");
    void handle.exited.then((exit) => this.ended(handle, exit));
    return handle;
  }

  private spawn(slot: WorkerSlot): void {
    const handle = this.startHandle(slot.id, this.config);
    this.install(slot, handle);
    void handle.ready.then((outcome) => {
      if (!outcome.ok && handle.killReason === NOT_READY_IN_TIME) this.deps.logger.error({ worker: slot.id, workerPid: handle.pid, readyTimeoutMs: this.config.workerReadyTimeoutMs }, "worker not ready in time; killed");
      this.emit("change");
    });
  }

  private install(slot: WorkerSlot, handle: WorkerHandle): void {
    clearTimeout(slot.restartTimer); // a restart pending for the slot's previous worker must not start a second one
    Object.assign(slot, { handle, restartTimer: undefined, silent: false, failure: undefined });
  }

  /** Every ending of every handle, current or retired, comes here once. */
  private ended(handle: WorkerHandle, exit: WorkerExit): void {
    this.carried.add(exit.lastMetrics);
    const fatal = handle.fatalMessage;
    if (fatal !== undefined && exit.permanentFailure === undefined) this.deps.logger.error({ worker: handle.id, reason: fatal }, "worker failed");
    if (exit.holding.length > 0) {
      this.deps.logger.warn({ worker: handle.id, workerPid: handle.pid, requests: exit.holding.length, inMs: HAND_BACK_AFTER_MS }, "worker ended holding requests; handing them back for redelivery");
    }
    if (!exit.drained) {
      setTimeout(() => {
        if (exit.holding.length > 0) this.deps.handBack(exit.holding);
        this.deps.handBackUnreported?.(() => this.liveHolding(), exit.holding);
      }, HAND_BACK_AFTER_MS).unref();
    }
    const slot = this.slots.find((s) => s.handle === handle);
    if (!slot) return; // a retired worker (rollout): its slot already has its successor
    slot.failure = exit.permanentFailure;
    this.emit("change");
    if (this.draining || this.refuseRestart(slot)) return;
    const wasStable = Date.now() - handle.startedAtMs > STABLE_AFTER_MS;
    slot.consecutiveCrashes = wasStable ? 1 : slot.consecutiveCrashes + 1;
    slot.restarts += 1;
    this.emit("restart");
    const delay = restartDelayMs(slot.consecutiveCrashes, this.config.restartBackoffMs);
    this.deps.logger.warn({ worker: slot.id, workerPid: handle.pid, code: exit.code, signal: exit.signal, restartInMs: delay }, "worker exited; restarting");
    slot.restartTimer = setTimeout(() => this.spawn(slot), delay);
  }

  /** A worker that failed in a way no restart heals stays down; the reason is logged once for the whole pool. */
  private refuseRestart(slot: WorkerSlot): boolean {
    if (slot.failure === undefined) return false;
    if (!this.loggedFailures.has(slot.failure)) {
      this.loggedFailures.add(slot.failure);
      this.deps.logger.error({ worker: slot.id, reason: slot.failure }, "worker cannot start and will not be restarted");
    }
    return true;
  }

  /** Reports workers that stopped heartbeating, and replaces (SIGKILL, then the usual restart) those that stay silent. */
  private checkSilence(): void {
    const bound = this.config.workerSilenceMs;
    for (const slot of this.slots) {
      const handle = slot.handle;
      if (!handle || handle.isExited || handle.state.kind === "draining" || handle.killReason) continue;
      const judged = judgeSilence(handle.lastHeardAtMs, Date.now(), bound);
      if (judged === "heard" && slot.silent) {
        slot.silent = false;
        this.deps.logger.info({ worker: slot.id }, "worker responsive again");
        this.emit("change");
      }
      if (judged !== "heard" && !slot.silent) {
        slot.silent = true;
        this.deps.logger.warn({ worker: slot.id, workerPid: handle.pid, silentForMs: Date.now() - handle.lastHeardAtMs! }, "worker unresponsive: no heartbeat");
        this.emit("change");
      }
      if (judged === "replace") {
        this.deps.logger.error({ worker: slot.id, workerPid: handle.pid }, "worker stayed silent; killing and replacing it (its requests will be redelivered)");
        handle.kill("it stayed silent");
      }
    }
  }

  /**
   * Replaces every worker, one at a time, by one that serves `modelDir`. Each replacement must load the model and
   * pass its smoke inference before the worker it replaces is drained; the first one that fails stops the rollout
   * and the remaining workers keep their model. Capacity never drops below N during a rollout.
   */
  async rollout(modelDir: string): Promise<{ ok: true; model: ModelInfo } | { ok: false; reason: string }> {
    const config: Config = Object.freeze({ ...this.config, modelDir });
    let model: ModelInfo | undefined;
    for (const slot of this.slots) {
      if (this.draining) return { ok: false, reason: "draining" };
      const candidate = this.startHandle(slot.id, config);
      const outcome = await candidate.ready;
      if (!outcome.ok) return outcome;
      if (this.draining) return (void candidate.drain(this.config.drainGraceMs, RETIRE_FORCE_MS), { ok: false, reason: "draining" });
      model = outcome.model;
      const old = slot.handle;
      this.install(slot, candidate);
      slot.consecutiveCrashes = 0;
      this.emit("change");
      if (old) await old.drain(this.config.drainGraceMs, RETIRE_FORCE_MS, () => this.warnKill(old));
      this.emit("change");
    }
    this.config = config;
    return { ok: true, model: model! };
  }

  private warnKill(handle: WorkerHandle): void {
    this.deps.logger.warn({ worker: handle.id, workerPid: handle.pid }, "worker did not drain in time; killing it (its requests will be redelivered)");
  }

  /**
   * Every live worker's metrics, plus the carried totals of gone ones (one more snapshot). A live worker that does
   * not answer in time counts with the monotonic part of its last snapshot, so a slow scrape never lowers a counter.
   */
  async collectMetrics(): Promise<WorkerMetricsSnapshot[]> {
    const live = this.slots.flatMap((s) => (s.handle && !s.handle.isExited ? [{ handle: s.handle, silent: s.silent }] : []));
    // A silent worker would not answer either: asking it would only hold the scrape for the timeout.
    const answers = await Promise.all(live.map(({ handle, silent }) => (silent ? undefined : handle.metrics(METRICS_TIMEOUT_MS))));
    const out: WorkerMetricsSnapshot[] = [];
    live.forEach(({ handle }, i) => {
      if (handle.isExited) return; // ended meanwhile: its last snapshot is in the carried totals now
      const answer = answers[i];
      const last = handle.lastMetrics;
      if (answer) out.push(answer);
      else if (last) out.push(monotonicPart(last));
    });
    out.push(this.carried.snapshot());
    return out;
  }

  /** Tells every worker to drain; kills those still running after graceMs + forceMs. */
  async drain(graceMs: number, forceMs: number): Promise<void> {
    this.stopTimers();
    const live = this.slots.flatMap((s) => (s.handle && !s.handle.isExited ? [s.handle] : []));
    await Promise.all(live.map((h) => h.drain(graceMs, forceMs, () => this.warnKill(h))));
  }

  private stopTimers(): void {
    this.draining = true;
    clearInterval(this.silenceTimer);
    clearInterval(this.metricsTimer);
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
  }

  /** The ack subjects every live worker last reported holding. */
  private liveHolding(): string[] {
    return this.slots.flatMap((s) => (s.handle && s.handle.state.kind !== "exited" ? s.handle.holdingAcks : []));
  }

  /** Kills every worker at once (second signal). */
  killAll(): void {
    this.stopTimers();
    for (const slot of this.slots) slot.handle?.kill("the supervisor is exiting now");
  }

  view(): WorkerView[] {
    return this.slots.map((s) => {
      const h = s.handle;
      const kind = h?.state.kind ?? "exited";
      const state: WorkerState = kind === "exited" ? (s.failure === undefined ? "exited" : "failed") : kind === "ready" && this.draining ? "draining" : kind;
      return {
        id: s.id,
        pid: h?.pid,
        state,
        restarts: s.restarts,
        model: h?.model,
        held: h?.held ?? 0,
        startedAt: new Date(h?.startedAtMs ?? 0).toISOString(),
        ...(s.failure === undefined ? {} : { failure: s.failure }),
        responsive: !s.silent,
        silentForMs: h?.lastHeardAtMs === undefined ? 0 : Math.max(0, Date.now() - h.lastHeardAtMs),
        ...(h?.placement ? { placement: h.placement } : {}),
      };
    });
  }
}
