/**
 * Every request a worker holds, from receipt to settlement, and the heartbeat that keeps their leases:
 * each held message gets `working()` every ackWait/3, so a request waiting for a batch or inside a long
 * inference is not redelivered while it is still being served (the role of bullmq's lock renewal).
 */
import type { JsMsg } from "@nats-io/jetstream";
import type { Job } from "./job.ts";

/**
 * The subject a delivery is acked on (`$JS.ACK.<stream>.<consumer>.…`): the message's reply subject. nats.js's JsMsg
 * type does not declare it, its implementation has it; undefined for a message without one (a test's fake).
 */
function ackSubject(msg: JsMsg): string | undefined {
  const reply = (msg as JsMsg & { reply?: unknown }).reply;
  return typeof reply === "string" && reply.startsWith("$JS.ACK.") ? reply : undefined;
}

export class HeldSet {
  private readonly jobs = new Set<Job>();
  private timer: NodeJS.Timeout | undefined;
  private emptyWaiters: Array<() => void> = [];

  private reportPending: NodeJS.Immediate | undefined;

  private readonly heartbeatEveryMs: number;
  private readonly onSizeChange: (size: number) => void;
  private readonly onHolding: ((acks: string[]) => void) | undefined;
  /**
   * onHolding, when given, receives the ack subjects of every held delivery in the tick the set changed (once per
   * tick): the worker tells its supervisor, which hands them back should the worker die.
   */
  constructor(
    heartbeatEveryMs: number,
    onSizeChange: (size: number) => void,
    onHolding?: (acks: string[]) => void,
  ) {
    this.heartbeatEveryMs = heartbeatEveryMs;
    this.onSizeChange = onSizeChange;
    this.onHolding = onHolding;
  }

  private changed(): void {
    this.onSizeChange(this.jobs.size);
    if (!this.onHolding || this.reportPending) return;
    this.reportPending = setImmediate(() => {
      this.reportPending = undefined;
      this.onHolding!([...this.jobs].flatMap((job) => ackSubject(job.msg) ?? []));
    });
  }

  get size(): number {
    return this.jobs.size;
  }

  add(job: Job): void {
    this.jobs.add(job);
    this.changed();
  }

  /** False when the job was not held (already settled). */
  delete(job: Job): boolean {
    if (!this.jobs.delete(job)) return false;
    this.changed();
    if (this.jobs.size === 0) for (const release of this.emptyWaiters.splice(0)) release();
    return true;
  }

  startHeartbeats(): void {
    this.timer ??= setInterval(() => this.heartbeat(), this.heartbeatEveryMs);
    this.timer.unref();
  }

  stopHeartbeats(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private heartbeat(): void {
    for (const job of this.jobs) job.msg.working();
  }

  /** Hands every held request back to JetStream for immediate redelivery (best effort: the broker may be gone). */
  handBack(): void {
    for (const job of this.jobs) {
      try {
        job.msg.nak();
      } catch {
        // connection closed: the ack wait redelivers it
      }
    }
  }

  /** Resolves true once nothing is held, or false after timeoutMs. */
  async waitEmpty(timeoutMs: number): Promise<boolean> {
    if (this.jobs.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const emptied = new Promise<boolean>((resolve) => this.emptyWaiters.push(() => resolve(true)));
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([emptied, timedOut]);
    clearTimeout(timer);
    return result;
  }
}
