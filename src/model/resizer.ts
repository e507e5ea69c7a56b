/**
 * Pillow-exact resizing off the main thread: one thread per worker process, started on first use.
 * Requests are queued in the thread in arrival order; decoded pixels are transferred, not copied.
 */
import { Worker } from "node:worker_threads";
import type { ResizeRequest } from "./resize-thread.ts";

export class PillowResizer {
  private thread: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(rgb: Uint8Array): void; reject(e: Error): void }>();

  private start(): Worker {
    const thread = new Worker(new URL("./resize-thread.ts", import.meta.url));
    thread.on("message", (m: { id: number; rgb: Uint8Array }) => {
      this.waiting.get(m.id)?.resolve(m.rgb);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) thread.unref(); // an idle resizer never keeps the process alive
    });
    const fail = (err: Error) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      this.thread = undefined; // the next call starts a fresh thread
    };
    thread.on("error", fail);
    thread.on("exit", (code) => fail(new Error(`resize thread exited with code ${code}`)));
    return thread;
  }

  resize(rgb: Uint8Array, width: number, height: number, size: number): Promise<Uint8Array> {
    this.thread ??= this.start();
    const id = this.nextId++;
    this.thread.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.thread!.postMessage({ id, rgb, width, height, size } satisfies ResizeRequest, [rgb.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await this.thread?.terminate();
  }
}
