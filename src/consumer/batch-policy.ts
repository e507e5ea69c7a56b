/**
 * Dynamic batching, as pure decisions over the queue of prepared requests:
 * - a batch starts as soon as maxBatch requests are ready, or when the oldest ready request has waited
 *   maxBatchDelayMs (Triton's max_queue_delay; the timer starts with the first request of the batch, as Ray Serve does);
 * - interactive requests go first, but bulk requests get at least a quarter of the slots of each batch while they
 *   wait (a credit that accumulates), so a steady interactive stream never starves the bulk lane.
 */
import { Lane } from "../protocol/index.ts";

export interface Queued {
  readonly lane: Lane;
  readonly readyAtMs: number;
}

/** Share of batch slots bulk is guaranteed while it has requests waiting. */
export const BULK_SHARE = 0.25;

export class ReadyQueue<T extends Queued> {
  private readonly lanes: Record<Lane, T[]> = { interactive: [], bulk: [] };
  private bulkCredit = 0;

  get size(): number {
    return this.lanes.interactive.length + this.lanes.bulk.length;
  }

  push(item: T): void {
    this.lanes[item.lane].push(item);
  }

  oldestReadyAtMs(): number | undefined {
    const heads = [this.lanes.interactive[0], this.lanes.bulk[0]].filter((x): x is T => x !== undefined);
    return heads.length === 0 ? undefined : Math.min(...heads.map((h) => h.readyAtMs));
  }

  /** Removes and returns up to `max` items: bulk's guaranteed share first, then interactive, then more bulk. */
  take(max: number): T[] {
    const { interactive, bulk } = this.lanes;
    if (bulk.length > 0) this.bulkCredit += max * BULK_SHARE;
    else this.bulkCredit = 0;
    const bulkFirst = Math.min(bulk.length, Math.floor(this.bulkCredit), max);
    this.bulkCredit -= bulkFirst;
    const batch = bulk.splice(0, bulkFirst);
    batch.push(...interactive.splice(0, max - batch.length));
    batch.push(...bulk.splice(0, max - batch.length));
    return batch;
  }

  /**
   * Like take(), counting rows instead of items: `rowsOf(item)` rows wait in each item (a policy list has one per
   * hypothesis), and at most `maxRows` are taken. An item whose rows do not all fit is taken in part and stays at the
   * head of its lane, so the next batch continues it. Bulk's guaranteed share is counted in rows too.
   */
  takeRows(maxRows: number, rowsOf: (item: T) => number): { item: T; rows: number }[] {
    const { interactive, bulk } = this.lanes;
    if (bulk.length > 0) this.bulkCredit += maxRows * BULK_SHARE;
    else this.bulkCredit = 0;
    const slices = new Map<T, { item: T; rows: number }>();
    const drain = (lane: T[], budget: number): number => {
      let used = 0;
      while (lane.length > 0 && used < budget) {
        const item = lane[0]!;
        const slice = slices.get(item) ?? { item, rows: 0 };
        slices.set(item, slice);
        const left = rowsOf(item) - slice.rows;
        const k = Math.min(left, budget - used);
        slice.rows += k;
        used += k;
        if (k < left) break; // the rest of this item waits at the head of its lane
        lane.shift();
      }
      return used;
    };
    const bulkFirst = drain(bulk, Math.min(Math.floor(this.bulkCredit), maxRows));
    this.bulkCredit -= bulkFirst;
    const taken = bulkFirst + drain(interactive, maxRows - bulkFirst);
    drain(bulk, maxRows - taken);
    return [...slices.values()].filter((s) => s.rows > 0);
  }

  /** Rows waiting in the queue. */
  rowCount(rowsOf: (item: T) => number): number {
    let n = 0;
    for (const lane of [this.lanes.interactive, this.lanes.bulk]) for (const item of lane) n += rowsOf(item);
    return n;
  }

  /** Removes every item for which `pred` holds (e.g. expired deadlines) and returns them. */
  extract(pred: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (const lane of [Lane.interactive, Lane.bulk]) {
      const keep: T[] = [];
      for (const item of this.lanes[lane]) (pred(item) ? out : keep).push(item);
      this.lanes[lane] = keep;
    }
    return out;
  }
}

/** A partial batch waits at most this much longer for requests that are already being preprocessed. */
const MAX_PREPARING_GRACE_MS = 100;

/**
 * 0: start a batch now; n > 0: check again in n ms; Infinity: nothing is ready.
 * `preparing` requests were received and are being decoded: they will be ready in milliseconds, and starting without
 * them would make them wait a whole inference. So a partial batch waits for them a little longer, but never longer
 * than an inference takes (`recentRunMs`), capped at MAX_PREPARING_GRACE_MS: a tiny model barely waits, a model that
 * runs for seconds fills its batches.
 */
export interface BatchTiming {
  /** Rows ready to run. */
  readonly readyRows: number;
  readonly oldestReadyAtMs: number | undefined;
  readonly maxBatch: number;
  readonly maxDelayMs: number;
  readonly nowMs: number;
  /** Requests received and still being decoded. */
  readonly preparing?: number;
  /** Moving average of an inference, ms. */
  readonly recentRunMs?: number;
}

export function batchDueInMs(t: BatchTiming): number {
  const { readyRows, oldestReadyAtMs, maxBatch, maxDelayMs, nowMs, preparing = 0, recentRunMs = 0 } = t;
  if (readyRows === 0 || oldestReadyAtMs === undefined) return Infinity;
  if (readyRows >= maxBatch) return 0;
  const grace = preparing > 0 ? Math.min(recentRunMs, MAX_PREPARING_GRACE_MS) : 0;
  return Math.max(0, oldestReadyAtMs + maxDelayMs + grace - nowMs);
}
