/** Messages between a worker process's main thread and its session thread. */
import type { RowsFeed } from "./rows.ts";

export interface SessionThreadOptions {
  /** The one-graph model; unused when `split` is set. */
  readonly onnxPath: string;
  readonly executionProvider: "cpu" | "cuda";
  readonly intraOpThreads: number;
  readonly inputNames: { readonly inputIds: string; readonly patchImages: string; readonly decoderInputIds: string };
  readonly outputName: string;
  /** The split form: an image-encoder graph and a text+fusion graph joined by the `imageEmbeds` tensor. */
  readonly split?: { readonly imageEncoderPath: string; readonly textFusionPath: string; readonly imageEmbeds: string };
}

export type SessionRequest =
  | { kind: "load"; id: number }
  | { kind: "rows"; id: number; feed: RowsFeed };

export type SessionReply =
  | { kind: "loaded"; id: number }
  | {
      kind: "rows";
      id: number;
      logits: Float32Array;
      columns: number;
      runMs: number;
      /** Split form: the embeddings of the feed's new images, [newImages,tokens,dim], for the rows of later runs. */
      embeds?: { data: Float32Array; tokens: number; dim: number };
    }
  | { kind: "error"; id: number; message: string };
