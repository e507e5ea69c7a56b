/**
 * The preprocessing pool of a worker process: N threads (resize-thread.ts) doing the Pillow-exact resize and the
 * normalisation, shared by every request and batch of the worker, started on first use.
 *
 * Queueing is bounded where it costs nothing to bound: each thread gets at most PER_THREAD requests at a time
 * (one running, one ready, so a thread never idles between two), the rest wait here in arrival order. This
 * queue holds only requests the worker already holds (their count is bounded by the batcher and the
 * consumers' max ack pending), and pixels are transferred to the thread, never copied.
 */
import { Worker } from "node:worker_threads";
import type { NormaliseSpec } from "./normalise.ts";
import type { ResizeRequest } from "./resize-thread.ts";

const PER_THREAD = 2;

interface Task {
  readonly id: number;
  readonly request: ResizeRequest;
  resolve(pixels: Float32Array): void;
  reject(e: Error): void;
}

interface Slot {
  thread: Worker | undefined;
  readonly running: Map<number, Task>;
}

type Reply = { id: number; pixels: Float32Array } | { id: number; error: string };

export class PillowResizer {
  readonly threads: number;
  private readonly slots: Slot[];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(threads = 1) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`preprocessing threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    this.slots = Array.from({ length: threads }, () => ({ thread: undefined, running: new Map<number, Task>() }));
  }

  /** Interleaved RGB (transferred: the caller must not use `rgb` afterwards) → normalised CHW float32 at spec.size. */
  resizeNormalise(rgb: Uint8Array, width: number, height: number, spec: NormaliseSpec): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error("preprocessing pool is closed"));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const plain = { size: spec.size, mean: [...spec.mean], std: [...spec.std] };
      this.queue.push({ id, request: { id, rgb, width, height, spec: plain }, resolve, reject });
      this.dispatch();
    });
  }

  /** Requests waiting for a thread (not counting those the threads hold). */
  get queued(): number {
    return this.queue.length;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.leastBusy();
      if (slot.running.size >= PER_THREAD) return;
      const task = this.queue.shift()!;
      slot.thread ??= this.start(slot);
      slot.thread.ref();
      slot.running.set(task.id, task);
      slot.thread.postMessage(task.request, [task.request.rgb.buffer as ArrayBuffer]);
    }
  }

  private leastBusy(): Slot {
    let best = this.slots[0]!;
    for (const s of this.slots) if (s.running.size < best.running.size) best = s;
    return best;
  }

  private start(slot: Slot): Worker {
    const thread = new Worker(new URL("./resize-thread.ts", import.meta.url));
    thread.on("message", (m: Reply) => {
      const task = slot.running.get(m.id);
      slot.running.delete(m.id);
      if ("error" in m) task?.reject(new Error(m.error));
      else task?.resolve(m.pixels);
      if (slot.running.size === 0) thread.unref(); // an idle pool never keeps the process alive
      this.dispatch();
    });
    const fail = (err: Error) => {
      if (slot.thread !== thread) return;
      for (const t of slot.running.values()) t.reject(err);
      slot.running.clear();
      slot.thread = undefined; // the next request on this slot starts a fresh thread
      if (!this.closed) this.dispatch();
    };
    thread.on("error", fail);
    thread.on("exit", (code) => fail(new Error(`preprocessing thread exited with code ${code}`)));
    return thread;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error("preprocessing pool is closed"));
    await Promise.all(this.slots.map((s) => s.thread?.terminate()));
  }
}
