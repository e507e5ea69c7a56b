/**
 * A batch as rows that share images: each group is one image (its pixels, or its embeddings once the split form's
 * image encoder has run) and the prompt rows asked about it. A policy list of N hypotheses is one group of N rows;
 * a single request is a group of one. The feed carries each image once; the session thread encodes the new ones
 * once (split form) or repeats their pixels per row (one-graph form), so both forms take the same feed.
 * Prompts are right-padded with the pad id; decoder prompts are [bos] for prompt type "none", the prompt minus its EOS
 * for "prev_output". Right padding never moves a real token (docs/ofa-ve.md §4), so a padded batch equals per-row runs.
 */
import type { Manifest } from "./manifest.ts";

/** Image embeddings from the split form's image encoder: [tokens, dim] float32 of one image. */
export interface ImageEmbeds {
  readonly data: Float32Array;
  readonly tokens: number;
  readonly dim: number;
}

/** One image: its preprocessed pixels [3,S,S], or its embeddings when an earlier run already encoded it. */
export type GroupImage = { readonly pixels: Float32Array } | { readonly embeds: ImageEmbeds };

export interface RowGroup {
  readonly image: GroupImage;
  /** Prompt token ids, one row per hypothesis. */
  readonly rows: readonly (readonly number[])[];
}

export interface RowsFeed {
  readonly rows: number;
  readonly imageSize: number;
  readonly textLength: number;
  readonly decoderLength: number;
  readonly inputIds: BigInt64Array;
  readonly decoderIds: BigInt64Array;
  /** Pixels of the images not encoded yet, [newImages,3,S,S]. */
  readonly images: Float32Array;
  readonly newImages: number;
  /** Embeddings of images encoded by an earlier run, [embedded,tokens,dim]; empty when none. */
  readonly embeds: Float32Array;
  readonly embedded: number;
  readonly embedTokens: number;
  readonly embedDim: number;
  /** Per row: its image, as an index into [new images…, embedded images…]. */
  readonly rowImage: Int32Array;
}

export function assembleRows(groups: readonly RowGroup[], manifest: Manifest): RowsFeed {
  const size = manifest.image.size;
  const plane = 3 * size * size;
  const { padId, bosId } = manifest.text;
  const fresh = groups.filter((g) => "pixels" in g.image);
  const kept = groups.filter((g) => "embeds" in g.image).map((g) => (g.image as { embeds: ImageEmbeds }).embeds);
  const first = kept[0];
  const embedSize = first ? first.tokens * first.dim : 0;
  const images = new Float32Array(fresh.length * plane);
  fresh.forEach((g, i) => images.set((g.image as { pixels: Float32Array }).pixels, i * plane));
  const embeds = new Float32Array(kept.length * embedSize);
  kept.forEach((e, i) => embeds.set(e.data, i * embedSize));
  const prompts: (readonly number[])[] = [];
  const rowImage: number[] = [];
  let nextFresh = 0;
  let nextKept = fresh.length;
  for (const g of groups) {
    const index = "pixels" in g.image ? nextFresh++ : nextKept++;
    for (const row of g.rows) {
      prompts.push(row);
      rowImage.push(index);
    }
  }
  const decoderPrompts = prompts.map((ids) => (manifest.prompt.type === "none" ? [bosId] : ids.slice(0, -1)));
  const textLength = Math.max(...prompts.map((p) => p.length));
  const decoderLength = Math.max(...decoderPrompts.map((d) => d.length));
  return {
    rows: prompts.length,
    imageSize: size,
    textLength,
    decoderLength,
    inputIds: padRows(prompts, textLength, padId),
    decoderIds: padRows(decoderPrompts, decoderLength, padId),
    images,
    newImages: fresh.length,
    embeds,
    embedded: kept.length,
    embedTokens: first?.tokens ?? 0,
    embedDim: first?.dim ?? 0,
    rowImage: Int32Array.from(rowImage),
  };
}

/** Row r of the result takes image rowImage[r]: copies `unit`-sized blocks of `sources` (concatenated) into [rows,unit]. */
export function expandRows(sources: readonly Float32Array[], unit: number, rowImage: Int32Array): Float32Array {
  const out = new Float32Array(rowImage.length * unit);
  const counts = sources.map((s) => s.length / unit);
  rowImage.forEach((index, r) => {
    let i = index;
    let s = 0;
    while (i >= counts[s]!) i -= counts[s++]!;
    out.set(sources[s]!.subarray(i * unit, (i + 1) * unit), r * unit);
  });
  return out;
}

function padRows(rows: readonly (readonly number[])[], width: number, padId: number): BigInt64Array {
  const out = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  rows.forEach((row, r) => row.forEach((id, c) => (out[r * width + c] = BigInt(id))));
  return out;
}
