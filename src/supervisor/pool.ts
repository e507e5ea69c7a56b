/**
 * The worker processes: fork N, restart a crashed one with backoff, ask each for its metrics, drain them all.
 * Each worker is a forked Node process running src/consumer/main.ts, configured over IPC.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/index.ts";
import type { Logger } from "../log/logger.ts";
import type { ModelInfo } from "../protocol/verdict.ts";
import { tsxExecArgv } from "../runtime/tsx.ts";
import { restartDelayMs, STABLE_AFTER_MS } from "./backoff.ts";
import type { FromWorker, ToWorker, WorkerMetricsSnapshot } from "./ipc.ts";

const WORKER_ENTRY = fileURLToPath(new URL("../consumer/main.ts", import.meta.url));
const METRICS_TIMEOUT_MS = 2_000;

export type WorkerState = "starting" | "ready" | "draining" | "exited";

export interface WorkerView {
  readonly id: number;
  readonly pid: number | undefined;
  readonly state: WorkerState;
  readonly restarts: number;
  readonly model: ModelInfo | undefined;
  readonly held: number;
  readonly startedAt: string;
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
}

export class WorkerPool {
  private readonly slots: WorkerSlot[] = [];
  private draining = false;
  private nextRequest = 1;
  private readonly metricWaiters = new Map<number, (m: WorkerMetricsSnapshot) => void>();

  constructor(
    private readonly config: Config,
    private readonly size: number,
    private readonly logger: Logger,
    private readonly onRestart: () => void,
    private readonly onChange: () => void,
  ) {}

  start(): void {
    for (let id = 1; id <= this.size; id++) {
      const slot: WorkerSlot = { id, child: undefined, state: "starting", restarts: 0, consecutiveCrashes: 0, model: undefined, held: 0, startedAtMs: 0, restartTimer: undefined };
      this.slots.push(slot);
      this.spawn(slot);
    }
  }

  private spawn(slot: WorkerSlot): void {
    const child = fork(WORKER_ENTRY, [], { execArgv: tsxExecArgv(), serialization: "advanced", stdio: "inherit" });
    Object.assign(slot, { child, state: "starting", model: undefined, held: 0, startedAtMs: Date.now() });
    child.on("message", (m: FromWorker) => this.onMessage(slot, m));
    child.on("exit", (code, signal) => this.onExit(slot, child, code, signal));
    child.send({ kind: "init", workerId: slot.id, config: this.config } satisfies ToWorker);
    this.logger.info({ worker: slot.id, pid: child.pid }, "worker started");
  }

  private onMessage(slot: WorkerSlot, m: FromWorker): void {
    if (m.kind === "ready") {
      slot.state = this.draining ? "draining" : "ready";
      slot.model = m.model;
      this.onChange();
    } else if (m.kind === "metrics") {
      slot.held = m.held;
      this.metricWaiters.get(m.id)?.(m.metrics);
    } else if (m.kind === "fatal") {
      this.logger.error({ worker: slot.id, reason: m.message }, "worker failed");
    }
  }

  private onExit(slot: WorkerSlot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.state = "exited";
    this.onChange();
    if (this.draining) return;
    const wasStable = Date.now() - slot.startedAtMs > STABLE_AFTER_MS;
    slot.consecutiveCrashes = wasStable ? 1 : slot.consecutiveCrashes + 1;
    slot.restarts += 1;
    this.onRestart();
    const delay = restartDelayMs(slot.consecutiveCrashes, this.config.restartBackoffMs);
    this.logger.warn({ worker: slot.id, pid: child.pid, code, signal, restartInMs: delay }, "worker exited; restarting");
    slot.restartTimer = setTimeout(() => this.spawn(slot), delay);
  }

  /** Every live worker's metrics; a worker that does not answer in time is left out of this scrape. */
  async collectMetrics(): Promise<WorkerMetricsSnapshot[]> {
    const live = this.slots.filter((s) => s.child && s.state !== "exited" && s.child.connected);
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
      this.logger.warn({ worker: slot.id, pid: child.pid }, "worker did not drain in time; killing it (its requests will be redelivered)");
      child.kill("SIGKILL");
    }, graceMs + forceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kills every worker at once (second signal). */
  killAll(): void {
    this.draining = true;
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
    }));
  }
}
