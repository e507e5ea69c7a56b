/**
 * The requests every part of the benchmark uses: a few 224² JPEGs and short hypotheses. The same bytes feed the
 * raw-onnxruntime baseline (preprocessed once) and the service (preprocessed per request), so both sides of each
 * ratio see the same tensors.
 */
import sharp from "sharp";

/** The issue asks for 224² JPEGs: the size most captioning datasets are stored at, and cheap to send inline. */
const IMAGE_SIDE = 224;
const IMAGE_COUNT = 8;
const JPEG_QUALITY = 85;

export const TEXTS: readonly string[] = Object.freeze([
  "two dogs are playing in the snow.",
  "a man rides a red bicycle down a busy street.",
  "there is a bowl of fruit on the kitchen table.",
  "a child holds a kite on the beach.",
]);

/**
 * Photo-like content: smooth colour gradients plus mild noise. Flat synthetic images compress to a few hundred
 * bytes and decode unrealistically fast; noise keeps the JPEG near the size (≈ 10–20 KB) of a real 224² photo.
 */
export async function benchJpegs(count = IMAGE_COUNT, side = IMAGE_SIDE, height = side): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(await photoLike(side, height, i));
  return out;
}

async function photoLike(width: number, height: number, seed: number): Promise<Buffer> {
  const random = lcg(seed + 1);
  const raw = Buffer.alloc(width * height * 3);
  const phase = seed * 0.7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      raw[o] = clamp(128 + 100 * Math.sin(x / 23 + phase) + noise(random));
      raw[o + 1] = clamp(128 + 100 * Math.cos(y / 31 - phase) + noise(random));
      raw[o + 2] = clamp(128 + 80 * Math.sin((x + y) / 41 + phase) + noise(random));
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: JPEG_QUALITY }).toBuffer();
}

/** A seeded generator, so every run sends byte-identical images. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function noise(random: () => number): number {
  return (random() - 0.5) * 24;
}

function clamp(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}
