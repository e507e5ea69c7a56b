/**
 * The one owner of one worker process: forks it, waits for `ready` (one settle path: the timer and the wait end
 * together, whatever the worker sends first — heartbeats arrive before `ready`), answers for its IPC (heartbeats,
 * metrics, the requests it holds), drains it within a bound and reports how it ended. Nothing else listens to the
 * child process; the pool reads a handle's state and awaits its `ready` and `exited` promises.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/index.ts";
import type { FromWorker, ToWorker, WorkerMetricsSnapshot } from "../ipc/messages.ts";
import type { Placement } from "../model/index.ts";
import type { ModelInfo } from "../protocol/verdict.ts";

const WORKER_ENTRY = fileURLToPath(new URL("../consumer/main.ts", import.meta.url));
export const NOT_READY_IN_TIME = "the new worker was not ready in time";

export type HandleState =
  | { readonly kind: "starting" }
  | { readonly kind: "ready"; readonly model: ModelInfo }
  | { readonly kind: "draining"; readonly model: ModelInfo | undefined }
  | { readonly kind: "exited"; readonly exit: WorkerExit };

export type ReadyOutcome = { readonly ok: true; readonly model: ModelInfo } | { readonly ok: false; readonly reason: string };

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The worker drained and handed back what it held itself (it said `drained` before exiting). */
  readonly drained: boolean;
  /** A start-up failure no restart heals (the worker said so); undefined otherwise. */
  readonly permanentFailure: string | undefined;
  /** Ack subjects of the requests it last reported holding (empty when it drained). */
  readonly holding: readonly string[];
  /** Its last metrics: the final ones when it drained, else the last snapshot taken (a scrape or a poll). */
  readonly lastMetrics: WorkerMetricsSnapshot | undefined;
}

export interface HandleOptions {
  readonly id: number;
  readonly config: Config;
  /** Load the model and pass the smoke inference within this, or be killed (OFA_WORKER_READY_TIMEOUT_MS). */
  readonly readyTimeoutMs: number;
}

export class WorkerHandle {
  readonly id: number;
  readonly child: ChildProcess;
  readonly startedAtMs = Date.now();
  /** Settles once: ready, or why not (exited first, or not ready within the timeout, then killed). */
  readonly ready: Promise<ReadyOutcome>;
  /** Settles once, when the process has exited and its IPC channel is closed. */
  readonly exited: Promise<WorkerExit>;
  private stateNow: HandleState = { kind: "starting" };
  /** When the worker last said anything over IPC (heartbeats included); undefined until it first does. */
  lastHeardAtMs: number | undefined;
  private holdingNow: readonly string[] = [];
  private metricsNow: WorkerMetricsSnapshot | undefined;
  private drainedSaid = false;
  private fatal: { message: string; permanent: boolean } | undefined;
  private killedBy: string | undefined;
  private settleReady!: (outcome: ReadyOutcome) => void;
  private nextRequest = 1;
  private readonly metricWaiters = new Map<number, (m: WorkerMetricsSnapshot | undefined) => void>();

  constructor(options: HandleOptions) {
    this.id = options.id;
    this.child = fork(WORKER_ENTRY, [], { execArgv: [], serialization: "advanced", stdio: "inherit" });
    this.ready = new Promise<ReadyOutcome>((resolve) => {
      const timer = setTimeout(() => this.kill(NOT_READY_IN_TIME), options.readyTimeoutMs);
      let settled = false;
      this.settleReady = (outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
    });
    this.exited = new Promise<WorkerExit>((resolve) => {
      // "close", not "exit": it comes once the IPC channel is read to its end too, so the last `holding` or `drained`
      // a worker wrote before it died is not missed (node may emit "exit" with messages still unread).
      this.child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
        this.child.removeAllListeners("message");
        const exit: WorkerExit = {
          code,
          signal,
          drained: this.drainedSaid,
          permanentFailure: this.fatal?.permanent ? this.fatal.message : undefined,
          holding: this.drainedSaid ? [] : this.holdingNow,
          lastMetrics: this.metricsNow,
        };
        this.stateNow = { kind: "exited", exit };
        this.settleReady({ ok: false, reason: this.killedBy ?? this.fatal?.message ?? "the new worker exited before it was ready" });
        for (const answer of [...this.metricWaiters.values()]) answer(undefined);
        resolve(exit);
      });
    });
    this.child.on("message", (m: FromWorker) => this.onMessage(m));
    this.send({ kind: "init", workerId: options.id, config: options.config });
  }

  get state(): HandleState {
    return this.stateNow;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The ack subjects of what the worker last reported holding. */
  get holdingAcks(): readonly string[] {
    return this.holdingNow;
  }

  /** Where a GPU provider put the model's nodes, from the worker's ready message (absent on the CPU provider). */
  placement: Placement | undefined;

  get model(): ModelInfo | undefined {
    const s = this.stateNow;
    return s.kind === "ready" || s.kind === "draining" ? s.model : undefined;
  }

  /** How many requests it holds, as it last reported. */
  get held(): number {
    return this.holdingNow.length;
  }

  get isExited(): boolean {
    return this.stateNow.kind === "exited";
  }

  /** Killed by the supervisor (not ready in time, silent, drain ran out): the first reason given. */
  get killReason(): string | undefined {
    return this.killedBy;
  }

  private onMessage(m: FromWorker): void {
    this.lastHeardAtMs = Date.now();
    if (m.kind === "ready") {
      this.placement = m.placement;
      if (this.stateNow.kind === "starting") this.stateNow = { kind: "ready", model: m.model };
      this.settleReady({ ok: true, model: m.model });
    } else if (m.kind === "holding") {
      this.holdingNow = m.acks;
    } else if (m.kind === "metrics") {
      this.metricsNow = m.metrics;
      this.metricWaiters.get(m.id)?.(m.metrics);
    } else if (m.kind === "drained") {
      this.drainedSaid = true;
      this.holdingNow = [];
      if (m.metrics) this.metricsNow = m.metrics;
    } else if (m.kind === "fatal") {
      this.fatal = { message: m.message, permanent: m.permanent === true };
    }
  }

  /** Its last metrics snapshot (from a scrape, a poll or its drain), if any. */
  get lastMetrics(): WorkerMetricsSnapshot | undefined {
    return this.metricsNow;
  }

  /** What it said when it failed, if it did. */
  get fatalMessage(): string | undefined {
    return this.fatal?.message;
  }

  private send(message: ToWorker, onError?: () => void): void {
    if (!this.child.connected) return onError?.();
    this.child.send(message, (err) => err && onError?.());
  }

  /** Its metrics, or undefined when it does not answer within timeoutMs (kept as its last snapshot when it does). */
  metrics(timeoutMs: number): Promise<WorkerMetricsSnapshot | undefined> {
    if (this.isExited) return Promise.resolve(undefined);
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      const done = (m: WorkerMetricsSnapshot | undefined) => (clearTimeout(timer), this.metricWaiters.delete(id), resolve(m));
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.metricWaiters.set(id, done);
      this.send({ kind: "metrics-request", id }, () => done(undefined));
    });
  }

  /** SIGKILL, once; `reason` is kept for the ready outcome and the logs. */
  kill(reason: string): void {
    if (this.isExited) return;
    this.killedBy ??= reason;
    this.child.kill("SIGKILL");
  }

  /**
   * Asks the worker to drain (finish what it holds within graceMs, hand back the rest, exit); kills it after
   * graceMs + forceMs. `onForce` runs just before such a kill. Resolves with how it exited.
   */
  async drain(graceMs: number, forceMs: number, onForce?: () => void): Promise<WorkerExit> {
    if (this.stateNow.kind === "exited") return this.exited;
    this.stateNow = { kind: "draining", model: this.model };
    this.send({ kind: "drain", graceMs }, () => this.child.kill("SIGTERM"));
    const timer = setTimeout(() => (onForce?.(), this.kill("it did not drain in time")), graceMs + forceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}
