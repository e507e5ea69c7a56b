/**
 * Pillow's 8-bit bicubic resample (Pillow src/libImaging/Resample.c, as described in docs/ofa-ve.md §2) over
 * typed arrays, the default resize of src/model/preprocess.ts (OFA_RESIZE=pillow), because it reproduces the
 * reference exactly: separable, horizontal pass then vertical, each pass rounding to uint8; per output index
 * center = (i + 0.5) * scale, support = 2 * max(scale, 1), Keys cubic a = -0.5 evaluated at (x − center + 0.5) / filterscale
 * (as a product with 1 / filterscale, like the C code), weights normalised then fixed point with 22 fractional
 * bits, accumulators start at half a unit and are shifted and clamped. Written from that description; no
 * Pillow code is copied.
 *
 * Why it is fast without native code: the coefficient tables are computed once per (in, out) size pair and cached;
 * both passes are integer-only (Math.imul, |0) so V8 keeps every value an int32; the horizontal pass walks one
 * input row at a time; the vertical pass accumulates whole contiguous rows (the inner loop is a straight
 * multiply-add over 3 × width values); clamping is Uint8ClampedArray's store; nothing is allocated per pixel.
 */
const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const ONE = 1 << PRECISION_BITS;

function cubic(x: number): number {
  const a = -0.5;
  const t = x < 0 ? -x : x;
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

export interface Coeffs {
  readonly bounds: Int32Array; // [first input index, tap count] per output index
  readonly weights: Int32Array; // ksize fixed-point weights per output index
  readonly ksize: number;
}

function computeCoefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ss = 1 / filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const count = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < count; x++) total += k[x] = cubic((x + xmin - center + 0.5) * ss);
    for (let x = 0; x < count; x++) {
      const w = total !== 0 ? k[x]! / total : k[x]!;
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = count;
  }
  return { bounds, weights, ksize };
}

/** Tables depend only on the two sizes; photos come in few sizes, so a small bounded cache pays off. */
const cache = new Map<string, Coeffs>();
const CACHE_LIMIT = 64;

export function coefficients(inSize: number, outSize: number): Coeffs {
  const key = `${inSize}>${outSize}`;
  let c = cache.get(key);
  if (!c) {
    c = computeCoefficients(inSize, outSize);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, c);
  }
  return c;
}

/** Interleaved RGB rows (w × h) → (outW × h), along x. */
function horizontalPass(src: Uint8Array, w: number, h: number, outW: number): Uint8Array {
  const { bounds, weights, ksize } = coefficients(w, outW);
  const out = new Uint8ClampedArray(outW * h * 3);
  const inRow = w * 3;
  for (let y = 0, rowBase = 0, o = 0; y < h; y++, rowBase += inRow) {
    for (let xx = 0; xx < outW; xx++, o += 3) {
      const count = bounds[xx * 2 + 1]!;
      let p = rowBase + bounds[xx * 2]! * 3;
      let k = xx * ksize;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let j = 0; j < count; j++, p += 3, k++) {
        const wt = weights[k]!;
        r = (r + Math.imul(src[p]!, wt)) | 0;
        g = (g + Math.imul(src[p + 1]!, wt)) | 0;
        b = (b + Math.imul(src[p + 2]!, wt)) | 0;
      }
      out[o] = r >> PRECISION_BITS; // the clamped store is Pillow's clip to 0..255
      out[o + 1] = g >> PRECISION_BITS;
      out[o + 2] = b >> PRECISION_BITS;
    }
  }
  return new Uint8Array(out.buffer);
}

/** Interleaved RGB rows (w × h) → (w × outH), along y: whole rows at a time. */
function verticalPass(src: Uint8Array, w: number, h: number, outH: number): Uint8Array {
  const { bounds, weights, ksize } = coefficients(h, outH);
  const rowLen = w * 3;
  const out = new Uint8ClampedArray(rowLen * outH);
  const acc = new Int32Array(rowLen);
  for (let yy = 0; yy < outH; yy++) {
    acc.fill(HALF);
    const count = bounds[yy * 2 + 1]!;
    for (let j = 0, p = bounds[yy * 2]! * rowLen; j < count; j++, p += rowLen) {
      const wt = weights[yy * ksize + j]!;
      for (let x = 0; x < rowLen; x++) acc[x] = (acc[x]! + Math.imul(src[p + x]!, wt)) | 0;
    }
    const o = yy * rowLen;
    for (let x = 0; x < rowLen; x++) out[o + x] = acc[x]! >> PRECISION_BITS;
  }
  return new Uint8Array(out.buffer);
}

/** Interleaved RGB (w x h) -> interleaved RGB (size x size), bit-exact with PIL `resize((size,size), BICUBIC)`. */
export function pilBicubicResize(rgb: Uint8Array, w: number, h: number, size: number): Uint8Array {
  const horiz = w === size ? rgb : horizontalPass(rgb, w, h, size);
  return h === size ? horiz : verticalPass(horiz, size, h, size);
}
