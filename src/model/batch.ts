/**
 * Stacks prepared requests into one onnxruntime feed: images into [B,3,S,S], prompts right-padded with the pad id
 * into [B,T], decoder prompts into [B,L] ([bos] for prompt type "none", the prompt minus its EOS for "prev_output").
 * Right padding never changes a real token's position (docs/ofa-ve.md §4), so a padded batch equals per-item runs.
 */
import type { Manifest } from "./manifest.ts";

export interface PreparedInput {
  readonly pixels: Float32Array;
  readonly inputIds: readonly number[];
}

export interface BatchFeed {
  readonly batch: number;
  readonly imageSize: number;
  readonly textLength: number;
  readonly decoderLength: number;
  readonly inputIds: BigInt64Array;
  readonly images: Float32Array;
  readonly decoderIds: BigInt64Array;
}

export function assembleBatch(items: readonly PreparedInput[], manifest: Manifest): BatchFeed {
  const size = manifest.image.size;
  const plane = 3 * size * size;
  const { padId, bosId } = manifest.text;
  const decoderPrompts = items.map((item) => (manifest.prompt.type === "none" ? [bosId] : item.inputIds.slice(0, -1)));
  const textLength = Math.max(...items.map((i) => i.inputIds.length));
  const decoderLength = Math.max(...decoderPrompts.map((d) => d.length));
  const images = new Float32Array(items.length * plane);
  items.forEach((item, b) => images.set(item.pixels, b * plane));
  return {
    batch: items.length,
    imageSize: size,
    textLength,
    decoderLength,
    inputIds: padRows(items.map((i) => i.inputIds), textLength, padId),
    images,
    decoderIds: padRows(decoderPrompts, decoderLength, padId),
  };
}

function padRows(rows: readonly (readonly number[])[], width: number, padId: number): BigInt64Array {
  const out = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  rows.forEach((row, r) => row.forEach((id, c) => (out[r * width + c] = BigInt(id))));
  return out;
}
