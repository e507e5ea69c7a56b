/**
 * The worker processes: fork N, restart a crashed one with backoff, ask each for its metrics, drain them all.
 * Each worker is a forked Node process running src/consumer/main.ts, configured over IPC.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/index.ts";
import type { Logger } from "../log/logger.ts";
import type { ModelInfo } from "../protocol/verdict.ts";
import { restartDelayMs, STABLE_AFTER_MS } from "./backoff.ts";
import type { FromWorker, ToWorker, WorkerMetricsSnapshot } from "../ipc/messages.ts";
import type { Placement } from "../model/index.ts";
import { heartbeatEveryMs } from "../runtime/bounds.ts";
import { judgeSilence } from "./silence.ts";

const WORKER_ENTRY = fileURLToPath(new URL("../consumer/main.ts", import.meta.url));
const METRICS_TIMEOUT_MS = 2_000;
/** A replacement worker must load its model and pass the smoke inference within this (OFA-large on CPU: ~15 s). */
const CANDIDATE_READY_TIMEOUT_MS = 10 * 60_000;

/** failed: stopped by a start-up failure a restart cannot heal; not restarted (WorkerView.failure says why). */
export type WorkerState = "starting" | "ready" | "draining" | "exited" | "failed";

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
  id: number;
  child: ChildProcess | undefined;
  state: WorkerState;
  restarts: number;
  consecutiveCrashes: number;
  model: ModelInfo | undefined;
  held: number;
  startedAtMs: number;
  restartTimer: NodeJS.Timeout | undefined;
  failure?: string;
  /** When the worker last said anything over IPC (heartbeats included); undefined until it first does. */
  lastHeardAtMs: number | undefined;
  silent: boolean;
  placement?: Placement;
}

export class WorkerPool {
  private readonly slots: WorkerSlot[] = [];
  private draining = false;
  private nextRequest = 1;
  private readonly metricWaiters = new Map<number, (m: WorkerMetricsSnapshot) => void>();
  private silenceTimer: NodeJS.Timeout | undefined;

  private config: Config;
  private readonly size: number;
  private readonly logger: Logger;
  private readonly onRestart: () => void;
  private readonly onChange: () => void;
  constructor(
    config: Config,
    size: number,
    logger: Logger,
    onRestart: () => void,
    onChange: () => void,
  ) {
    this.config = config;
    this.size = size;
    this.logger = logger;
    this.onRestart = onRestart;
    this.onChange = onChange;
  }

  start(): void {
    for (let id = 1; id <= this.size; id++) {
      const slot: WorkerSlot = { id, child: undefined, state: "starting", restarts: 0, consecutiveCrashes: 0, model: undefined, held: 0, startedAtMs: 0, restartTimer: undefined, lastHeardAtMs: undefined, silent: false };
      this.slots.push(slot);
      this.spawn(slot);
    }
    this.silenceTimer = setInterval(() => this.checkSilence(), heartbeatEveryMs(this.config.workerSilenceMs)); // looks as often as workers beat
    this.silenceTimer.unref();
  }

  /** Reports workers that stopped heartbeating, and replaces (SIGKILL, then the usual restart) those that stay silent. */
  private checkSilence(): void {
    const bound = this.config.workerSilenceMs;
    for (const slot of this.slots) {
      if (!slot.child || slot.state === "exited" || slot.state === "draining") continue;
      const judged = judgeSilence(slot.lastHeardAtMs, Date.now(), bound);
      if (judged !== "heard" && !slot.silent) {
        slot.silent = true;
        this.logger.warn({ worker: slot.id, workerPid: slot.child.pid, silentForMs: Date.now() - slot.lastHeardAtMs! }, "worker unresponsive: no heartbeat");
        this.onChange();
      }
      if (judged === "replace") {
        this.logger.error({ worker: slot.id, workerPid: slot.child.pid }, "worker stayed silent; killing and replacing it (its requests will be redelivered)");
        slot.lastHeardAtMs = undefined; // one kill per silence
        slot.child.kill("SIGKILL");
      }
    }
  }

  private spawn(slot: WorkerSlot): void {
    const child = this.forkWorker(slot.id, this.config);
    Object.assign(slot, { child, state: "starting", model: undefined, held: 0, startedAtMs: Date.now(), lastHeardAtMs: undefined, silent: false });
    child.on("message", (m: FromWorker) => this.onMessage(slot, m));
    child.on("exit", (code, signal) => this.onExit(slot, child, code, signal));
    this.logger.info({ worker: slot.id, workerPid: child.pid }, "worker started");
  }

  private forkWorker(id: number, config: Config): ChildProcess {
    const child = fork(WORKER_ENTRY, [], { execArgv: [], serialization: "advanced", stdio: "inherit" });
    child.send({ kind: "init", workerId: id, config } satisfies ToWorker);
    return child;
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
      const candidate = await this.startCandidate(slot.id, config);
      if (!candidate.ok) return candidate;
      model = candidate.model;
      const old = slot.child;
      Object.assign(slot, { child: candidate.child, state: "ready", model, held: 0, startedAtMs: Date.now(), consecutiveCrashes: 0, failure: undefined, lastHeardAtMs: Date.now(), silent: false, placement: candidate.placement });
      candidate.child.on("message", (m: FromWorker) => this.onMessage(slot, m));
      candidate.child.on("exit", (code, signal) => this.onExit(slot, candidate.child, code, signal));
      if (old) await this.retire(old);
      this.onChange();
    }
    this.config = config;
    return { ok: true, model: model! };
  }

  private startCandidate(id: number, config: Config): Promise<{ ok: true; child: ChildProcess; model: ModelInfo; placement?: Placement } | { ok: false; reason: string }> {
    const child = this.forkWorker(id, config);
    return new Promise((resolve) => {
      const onMessage = (m: FromWorker) => {
        if (m.kind === "ready") (child.off("exit", onExit), child.off("message", onMessage), resolve({ ok: true, child, model: m.model, placement: m.placement }));
        if (m.kind === "fatal") reason = m.message;
      };
      let reason = "the new worker exited before it was ready";
      const timer = setTimeout(() => ((reason = "the new worker was not ready in time"), child.kill("SIGKILL")), CANDIDATE_READY_TIMEOUT_MS);
      const onExit = () => (clearTimeout(timer), child.off("message", onMessage), resolve({ ok: false, reason }));
      child.on("message", onMessage);
      child.once("exit", onExit);
      child.once("message", (m: FromWorker) => m.kind === "ready" && clearTimeout(timer));
    });
  }

  private async retire(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return; // already gone (a failed or crashed slot)
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.connected) child.send({ kind: "drain", graceMs: this.config.drainGraceMs } satisfies ToWorker);
    const timer = setTimeout(() => child.kill("SIGKILL"), this.config.drainGraceMs + 5_000);
    await exited;
    clearTimeout(timer);
  }

  private onMessage(slot: WorkerSlot, m: FromWorker): void {
    slot.lastHeardAtMs = Date.now();
    if (slot.silent) {
      slot.silent = false;
      this.logger.info({ worker: slot.id }, "worker responsive again");
      this.onChange();
    }
    if (m.kind === "ready") {
      slot.state = this.draining ? "draining" : "ready";
      slot.model = m.model;
      slot.placement = m.placement;
      this.onChange();
    } else if (m.kind === "metrics") {
      slot.held = m.held;
      this.metricWaiters.get(m.id)?.(m.metrics);
    } else if (m.kind === "fatal" && m.permanent) {
      slot.failure = m.message; // acted on at exit: no restart
    } else if (m.kind === "fatal") {
      this.logger.error({ worker: slot.id, reason: m.message }, "worker failed");
    }
  }

  private onExit(slot: WorkerSlot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.state = slot.failure === undefined ? "exited" : "failed";
    this.onChange();
    if (this.draining || this.refuseRestart(slot)) return;
    const wasStable = Date.now() - slot.startedAtMs > STABLE_AFTER_MS;
    slot.consecutiveCrashes = wasStable ? 1 : slot.consecutiveCrashes + 1;
    slot.restarts += 1;
    this.onRestart();
    const delay = restartDelayMs(slot.consecutiveCrashes, this.config.restartBackoffMs);
    this.logger.warn({ worker: slot.id, workerPid: child.pid, code, signal, restartInMs: delay }, "worker exited; restarting");
    slot.restartTimer = setTimeout(() => this.spawn(slot), delay);
  }

  private readonly loggedFailures = new Set<string>();

  /** A worker that failed in a way no restart heals stays down; the reason is logged once for the whole pool. */
  private refuseRestart(slot: WorkerSlot): boolean {
    if (slot.failure === undefined) return false;
    if (!this.loggedFailures.has(slot.failure)) {
      this.loggedFailures.add(slot.failure);
      this.logger.error({ worker: slot.id, reason: slot.failure }, "worker cannot start and will not be restarted");
    }
    return true;
  }

  /** Every live worker's metrics; a worker that does not answer in time is left out of this scrape. */
  async collectMetrics(): Promise<WorkerMetricsSnapshot[]> {
    // A silent worker would not answer either: asking it would only hold the scrape for the timeout.
    const live = this.slots.filter((s) => s.child && s.state !== "exited" && s.child.connected && !s.silent);
    const answers = live.map((slot) => {
      const id = this.nextRequest++;
      return new Promise<WorkerMetricsSnapshot | undefined>((resolve) => {
        const timer = setTimeout(() => (this.metricWaiters.delete(id), resolve(undefined)), METRICS_TIMEOUT_MS);
        this.metricWaiters.set(id, (m) => (clearTimeout(timer), this.metricWaiters.delete(id), resolve(m)));
        slot.child!.send({ kind: "metrics-request", id } satisfies ToWorker, (err) => err && resolve(undefined));
      });
    });
    return (await Promise.all(answers)).filter((m): m is WorkerMetricsSnapshot => m !== undefined);
  }

  /** Tells every worker to drain; kills those still running after graceMs + forceMs. */
  async drain(graceMs: number, forceMs: number): Promise<void> {
    this.draining = true;
    clearInterval(this.silenceTimer);
    const live = this.slots.filter((s) => s.child && s.state !== "exited");
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    await Promise.all(live.map((slot) => this.drainOne(slot, graceMs, forceMs)));
  }

  private async drainOne(slot: WorkerSlot, graceMs: number, forceMs: number): Promise<void> {
    const child = slot.child!;
    if (child.exitCode !== null || child.signalCode !== null) return;
    slot.state = "draining";
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.connected) child.send({ kind: "drain", graceMs } satisfies ToWorker);
    else child.kill("SIGTERM");
    const timer = setTimeout(() => {
      this.logger.warn({ worker: slot.id, workerPid: child.pid }, "worker did not drain in time; killing it (its requests will be redelivered)");
      child.kill("SIGKILL");
    }, graceMs + forceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kills every worker at once (second signal). */
  killAll(): void {
    this.draining = true;
    clearInterval(this.silenceTimer);
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      slot.child?.kill("SIGKILL");
    }
  }

  view(): WorkerView[] {
    return this.slots.map((s) => ({
      id: s.id,
      pid: s.child?.pid,
      state: s.state,
      restarts: s.restarts,
      model: s.model,
      held: s.held,
      startedAt: new Date(s.startedAtMs).toISOString(),
      ...(s.failure === undefined ? {} : { failure: s.failure }),
      responsive: !s.silent,
      silentForMs: s.lastHeardAtMs === undefined ? 0 : Math.max(0, Date.now() - s.lastHeardAtMs),
      ...(s.placement ? { placement: s.placement } : {}),
    }));
  }
}
