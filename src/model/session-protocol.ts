/** Messages between a worker process's main thread and its session thread. */
import type { BatchFeed } from "./batch.ts";

export interface SessionThreadOptions {
  readonly onnxPath: string;
  readonly executionProvider: "cpu" | "cuda";
  readonly intraOpThreads: number;
  readonly inputNames: { readonly inputIds: string; readonly patchImages: string; readonly decoderInputIds: string };
  readonly outputName: string;
}

export type SessionRequest = { kind: "load"; id: number } | { kind: "run"; id: number; feed: BatchFeed };

export type SessionReply =
  | { kind: "loaded"; id: number }
  | { kind: "result"; id: number; logits: Float32Array; columns: number; runMs: number }
  | { kind: "error"; id: number; message: string };
