/**
 * Waiting primitives of the runners: an abortable sleep, and the set of work still in flight with a
 * bounded drain. Waits here pace the load itself; none is used to synchronise with the service.
 */
import { setTimeout as delay } from "node:timers/promises";

/**
 * Abortable sleeps sharing one abort listener: thousands of users sleeping at once must not each add
 * a listener to the run's signal (Node warns past 10, and listeners of finished sleeps would pile up).
 */
export class Sleeper {
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  private readonly onAbort = () => this.wakeAll();

  private readonly signal: AbortSignal;
  constructor(signal: AbortSignal) {
    this.signal = signal;
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Detaches from the signal (it may be the caller's and outlive the run). */
  dispose(): void {
    this.signal.removeEventListener("abort", this.onAbort);
  }

  /** Sleeps `ms` (≤ 0 returns at once); an abort, or `wake` settling, ends the sleep early. Never rejects. */
  sleep(ms: number, wake?: Promise<unknown>): Promise<void> {
    if (ms <= 0 || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeping.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleeping.add(entry);
      const early = () => {
        if (!this.sleeping.delete(entry)) return;
        clearTimeout(entry.timer);
        resolve();
      };
      wake?.then(early, early);
    });
  }

  private wakeAll(): void {
    for (const entry of this.sleeping) {
      clearTimeout(entry.timer);
      entry.wake();
    }
    this.sleeping.clear();
  }
}

/** Promises still running (requests in the open model, users in the closed one). */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  get size(): number {
    return this.running.size;
  }

  track(work: Promise<unknown>): void {
    const tracked = work.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** Waits until nothing runs, at most `boundMs`; true when everything finished. */
  async drain(boundMs: number): Promise<boolean> {
    const controller = new AbortController();
    const timedOut = delay(boundMs, false, { signal: controller.signal }).catch(() => false);
    const finished = (async () => {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
      return true;
    })();
    try {
      return await Promise.race([finished, timedOut]);
    } finally {
      controller.abort();
    }
  }
}
