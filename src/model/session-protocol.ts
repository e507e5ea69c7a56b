/** Messages between a worker process's main thread and its session thread. */
import type { ExecutionProvider } from "./providers.ts";
import type { RowsFeed } from "./rows.ts";

/** Where onnxruntime placed the graph's nodes, from a profile of the session's first run (webgpu and cuda only). */
export interface Placement {
  readonly provider: string;
  readonly nodes: number;
  /** Nodes on the CPU provider: onnxruntime keeps shape arithmetic there by design; anything else is a fallback. */
  readonly cpuNodes: number;
  /** Op types on the CPU provider, with how many nodes of each. */
  readonly cpuOps: Readonly<Record<string, number>>;
}

export interface SessionThreadOptions {
  /** The one-graph model; unused when `split` is set. */
  readonly onnxPath: string;
  readonly executionProvider: ExecutionProvider;
  readonly intraOpThreads: number;
  readonly inputNames: { readonly inputIds: string; readonly patchImages: string; readonly decoderInputIds: string };
  readonly outputName: string;
  /** The split form: an image-encoder graph and a text+fusion graph joined by the `imageEmbeds` tensor. */
  readonly split?: {
    readonly imageEncoderPath: string;
    readonly textFusionPath: string;
    readonly imageEmbeds: string;
    /** The text+fusion graph takes each image's state once and this int64 [R] row-to-image input (webgpu form). */
    readonly imageRows?: string;
  };
}

export type SessionRequest =
  | { kind: "load"; id: number }
  | { kind: "rows"; id: number; feed: RowsFeed }
  | { kind: "placement"; id: number };

export type SessionReply =
  | { kind: "loaded"; id: number }
  /** undefined on the CPU provider, and until a run has been profiled. */
  | { kind: "placement"; id: number; placement: Placement | undefined }
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
