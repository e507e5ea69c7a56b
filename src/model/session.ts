/**
 * The main-thread handle of the onnxruntime session thread: load, run a batch feed, close.
 * Input buffers are transferred (moved, not copied) to the thread; logits come back the same way.
 */
import { Worker } from "node:worker_threads";
import { ErrorCode, OfaError } from "../protocol/errors.ts";
import type { RowsFeed } from "./rows.ts";
import type { Placement, SessionReply, SessionRequest, SessionThreadOptions } from "./session-protocol.ts";

export type { SessionThreadOptions };

export type RunResult = Omit<Extract<SessionReply, { kind: "rows" }>, "kind" | "id">;

export class ModelSession {
  private readonly thread: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(r: SessionReply): void; reject(e: Error): void }>();
  private failure: Error | undefined;

  private constructor(options: SessionThreadOptions) {
    this.thread = new Worker(new URL("./session-thread.ts", import.meta.url), { workerData: { options } });
    this.thread.on("message", (reply: SessionReply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      w?.resolve(reply);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.thread.on("error", fail);
    this.thread.on("exit", (code) => fail(new Error(`session thread exited with code ${code}`)));
  }

  /** Starts the thread and waits until the session is created. */
  static async open(options: SessionThreadOptions): Promise<ModelSession> {
    const session = new ModelSession(options);
    try {
      await session.call({ kind: "load", id: 0 });
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  }

  /** One run of rows sharing images (rows.ts); the feed's buffers are moved to the thread. */
  async run(feed: RowsFeed): Promise<RunResult> {
    const transfer = [feed.inputIds.buffer, feed.images.buffer, feed.decoderIds.buffer, feed.embeds.buffer, feed.rowImage.buffer] as ArrayBuffer[];
    let reply: SessionReply;
    try {
      reply = await this.call({ kind: "rows", id: 0, feed }, transfer);
    } catch (err) {
      // session.run rejected (or the thread died under it): a typed, retryable model failure, cause kept.
      throw new OfaError(ErrorCode.MODEL_RUN, `session.run failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (reply.kind !== "rows") throw new OfaError(ErrorCode.MODEL_RUN, "session thread answered a run without a result");
    return reply;
  }

  /** Where a GPU provider put the nodes, from the profile of the first run; undefined on the CPU provider. */
  async placement(): Promise<Placement | undefined> {
    const reply = await this.call({ kind: "placement", id: 0 });
    return reply.kind === "placement" ? reply.placement : undefined;
  }

  private call(request: SessionRequest, transfer: ArrayBuffer[] = []): Promise<SessionReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<SessionReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.thread.postMessage({ ...request, id }, transfer);
    }).then((reply) => {
      if (reply.kind === "error") throw new Error(reply.message);
      return reply;
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error("session closed");
    await this.thread.terminate();
  }
}
