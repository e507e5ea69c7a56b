/**
 * Inside the session thread: runs a RowsFeed (images shared by rows) on either form of the model.
 * - split form: the image encoder runs once on the feed's new images; their embeddings (the image state, of any
 *   width: models/README.md §1.1a) and those kept from earlier runs are repeated per row into the text+fusion graph's
 *   batch, and the new embeddings go back to the caller so the rest of a long list (split across runs by the
 *   batcher) never re-encodes its image;
 * - one-graph form: the pixels are repeated per row into the one graph (the image is still decoded only once);
 * - split form on a GPU (the webgpu export, whose text+fusion graph takes each image's state once plus a row-to-image
 *   index): the encoder's output stays in GPU memory and goes straight into the text+fusion graph, so a policy list's
 *   image state (18.5 MB in OFA-large) never crosses to the host. A GPU tensor cannot be read from JavaScript, so no
 *   embeddings come back: a list longer than one run re-encodes its image in each run it spans (one encoder pass of
 *   the image per run, against copying its state to the host and back).
 */
// onnxruntime-node is owned by session-thread.ts (the one value importer, scripts/check-layers.mjs): this helper of
// the same thread gets the Tensor class from it and uses only its types here.
import type ort from "onnxruntime-node";
import { expandRows, type RowsFeed } from "./rows.ts";
import type { SessionReply, SessionThreadOptions } from "./session-protocol.ts";

type RowsReply = Extract<SessionReply, { kind: "rows" }>;

export interface RowsRunner {
  run(id: number, feed: RowsFeed): Promise<RowsReply>;
}

let Tensor: typeof ort.Tensor;

export function rowsRunner(
  options: SessionThreadOptions,
  create: (path: string, gpuOutputs?: boolean) => Promise<ort.InferenceSession>,
  tensor: typeof ort.Tensor,
): { ready: Promise<unknown>; runner: RowsRunner } {
  Tensor = tensor;
  const split = options.split;
  if (!split) {
    const one = create(options.onnxPath);
    return { ready: one, runner: { run: async (id, feed) => runOneGraph(await one, options, id, feed) } };
  }
  if (split.imageRows && options.executionProvider !== "cpu") {
    const onGpu = Promise.all([create(split.imageEncoderPath, true), create(split.textFusionPath)]);
    return { ready: onGpu, runner: { run: async (id, feed) => runSplitOnDevice(await onGpu, options, id, feed) } };
  }
  const both = Promise.all([create(split.imageEncoderPath), create(split.textFusionPath)]);
  return { ready: both, runner: { run: async (id, feed) => runSplit(await both, options, id, feed) } };
}

async function runOneGraph(session: ort.InferenceSession, options: SessionThreadOptions, id: number, feed: RowsFeed): Promise<RowsReply> {
  if (feed.embedded > 0) throw new Error("a one-graph model was given image embeddings");
  const plane = 3 * feed.imageSize * feed.imageSize;
  const names = options.inputNames;
  const started = performance.now();
  const outputs = await session.run({
    [names.inputIds]: int64(feed.inputIds, feed.rows, feed.textLength),
    [names.patchImages]: new Tensor("float32", expandRows([feed.images], plane, feed.rowImage), [feed.rows, 3, feed.imageSize, feed.imageSize]),
    [names.decoderInputIds]: int64(feed.decoderIds, feed.rows, feed.decoderLength),
  });
  return { kind: "rows", id, ...logitsOf(outputs, options.outputName), runMs: performance.now() - started };
}

async function runSplit(
  [encoder, fusion]: [ort.InferenceSession, ort.InferenceSession],
  options: SessionThreadOptions,
  id: number,
  feed: RowsFeed,
): Promise<RowsReply> {
  const names = options.inputNames;
  const embedsName = options.split!.imageEmbeds;
  const started = performance.now();
  let fresh: { data: Float32Array; tokens: number; dim: number } | undefined;
  if (feed.newImages > 0) {
    const out = await encoder.run({ [names.patchImages]: new Tensor("float32", feed.images, [feed.newImages, 3, feed.imageSize, feed.imageSize]) });
    const t = out[embedsName];
    if (!t) throw new Error(`image encoder has no output ${embedsName}`);
    fresh = { data: Float32Array.from(t.data as Float32Array), tokens: Number(t.dims[1]), dim: Number(t.dims[2]) };
  }
  const tokens = fresh?.tokens ?? feed.embedTokens;
  const dim = fresh?.dim ?? feed.embedDim;
  if (feed.embedded > 0 && (feed.embedTokens !== tokens || feed.embedDim !== dim)) {
    throw new Error(`kept image embeddings are [${feed.embedTokens},${feed.embedDim}], the encoder gives [${tokens},${dim}]`);
  }
  const perRow = expandRows([fresh?.data ?? new Float32Array(0), feed.embeds], tokens * dim, feed.rowImage);
  const outputs = await fusion.run({
    [names.inputIds]: int64(feed.inputIds, feed.rows, feed.textLength),
    [embedsName]: new Tensor("float32", perRow, [feed.rows, tokens, dim]),
    [names.decoderInputIds]: int64(feed.decoderIds, feed.rows, feed.decoderLength),
  });
  return { kind: "rows", id, ...logitsOf(outputs, options.outputName), runMs: performance.now() - started, ...(fresh ? { embeds: fresh } : {}) };
}

async function runSplitOnDevice(
  [encoder, fusion]: [ort.InferenceSession, ort.InferenceSession],
  options: SessionThreadOptions,
  id: number,
  feed: RowsFeed,
): Promise<RowsReply> {
  if (feed.embedded > 0) throw new Error("the GPU split form keeps no image embeddings between runs; a feed brought some");
  const names = options.inputNames;
  const { imageEmbeds, imageRows } = options.split!;
  const started = performance.now();
  const out = await encoder.run({ [names.patchImages]: new Tensor("float32", feed.images, [feed.newImages, 3, feed.imageSize, feed.imageSize]) });
  const state = out[imageEmbeds];
  if (!state) throw new Error(`image encoder has no output ${imageEmbeds}`);
  try {
    const outputs = await fusion.run({
      [names.inputIds]: int64(feed.inputIds, feed.rows, feed.textLength),
      [imageEmbeds]: state,
      [imageRows!]: new Tensor("int64", BigInt64Array.from(feed.rowImage, BigInt), [feed.rows]),
      [names.decoderInputIds]: int64(feed.decoderIds, feed.rows, feed.decoderLength),
    });
    return { kind: "rows", id, ...logitsOf(outputs, options.outputName), runMs: performance.now() - started };
  } finally {
    state.dispose(); // its GPU buffer goes back to onnxruntime's pool now, not when the GC gets to it
  }
}

function int64(data: BigInt64Array, rows: number, width: number): ort.Tensor {
  return new Tensor("int64", data, [rows, width]);
}

function logitsOf(outputs: ort.InferenceSession.OnnxValueMapType, name: string): { logits: Float32Array; columns: number } {
  const tensor = outputs[name];
  if (!tensor) throw new Error(`model has no output ${name}`);
  return { logits: Float32Array.from(tensor.data as Float32Array), columns: Number(tensor.dims[1]) };
}
