/**
 * How many requests a worker may hold, per lane: the bookkeeping between the pullers (which ask for room before a
 * fetch) and settlement (which gives it back). Interactive may fill the whole capacity; bulk holds at most one batch,
 * so it can never crowd interactive out of a worker. Open fetches reserve room in their own lane only: an idle
 * interactive fetch must not block bulk pulls. So a worker holds at most capacity + maxBatch requests, every one of
 * them in the held set (heartbeated).
 */
import type { Lane } from "../protocol/index.ts";
import type { HeldSet } from "./held.ts";
import type { Job } from "./job.ts";
import type { Room } from "./puller.ts";
import { Signal } from "./signal.ts";

export class Capacity {
  /** Requests a worker holds at most: one batch running, one forming (preprocessing overlaps inference). */
  readonly limit: number;
  /** Wakes a puller waiting for room. */
  readonly changed = new Signal();
  private readonly maxBatch: number;
  private readonly held: HeldSet;
  private readonly reserved: Record<Lane, number> = { interactive: 0, bulk: 0 };
  private bulk = 0;
  /** The held request of each message: a later state of a request (admitted, …) is a new object with the same msg. */
  private readonly byMsg = new Map<Job["msg"], Job>();

  constructor(options: { readonly maxBatch: number; readonly held: HeldSet }) {
    this.maxBatch = options.maxBatch;
    this.held = options.held;
    this.limit = 2 * options.maxBatch;
  }

  /** Requests held now (both lanes). */
  get size(): number {
    return this.held.size;
  }

  get bulkHeld(): number {
    return this.bulk;
  }

  /** A received request is held (and heartbeated) until release(). */
  hold(job: Job): void {
    this.byMsg.set(job.msg, job);
    this.held.add(job);
    if (job.lane === "bulk") this.bulk += 1;
    this.changed.notify();
  }

  /** The request is settled (or handed back): its room is free. A second release of the same job does nothing. */
  release(job: Pick<Job, "msg" | "lane">): void {
    const held = this.byMsg.get(job.msg);
    if (!held || !this.held.delete(held)) return;
    this.byMsg.delete(job.msg);
    if (job.lane === "bulk") this.bulk -= 1;
    this.changed.notify();
  }

  /** How many more messages this lane may request now. */
  available(lane: Lane): number {
    const free = this.limit - this.held.size;
    return (lane === "bulk" ? Math.min(free, this.maxBatch - this.bulk) : free) - this.reserved[lane];
  }

  /** The view the pullers get. */
  room(): Room {
    return {
      available: (lane) => this.available(lane),
      reserve: (lane, n) => (this.reserved[lane] += n),
      release: (lane, n) => {
        this.reserved[lane] -= n;
        if (n > 0) this.changed.notify();
      },
      changed: this.changed,
    };
  }
}
