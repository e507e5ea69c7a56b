/**
 * A TypeScript port of Pillow's 8-bit bicubic resample (Pillow src/libImaging/Resample.c, as described in
 * shared/ofa-ve.md §2), the default resize of src/model/preprocess.ts (OFA_RESIZE=pillow), because it reproduces the reference exactly:
 * separable, horizontal pass then vertical, each pass rounding to uint8; per output index
 * center = (i + 0.5) * scale, support = 2 * max(scale, 1), Keys cubic a = -0.5, weights normalised then
 * fixed point with 22 fractional bits. Written from that description; no Pillow code is copied.
 */
const PRECISION_BITS = 22;

function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

interface Coeffs {
  bounds: Int32Array; // [xmin, count] per output index
  weights: Int32Array; // ksize fixed-point weights per output index
  ksize: number;
}

function coefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const count = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < count; x++) total += k[x] = cubic((x + xmin - center + 0.5) / filterscale);
    for (let x = 0; x < count; x++) {
      const w = total !== 0 ? k[x]! / total : k[x]!;
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = count;
  }
  return { bounds, weights, ksize };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS; // acc stays within int32, as in the C code
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** One pass over interleaved RGB: along x when `horizontal`, else along y. */
function pass(src: Uint8Array, w: number, h: number, outLen: number, horizontal: boolean): Uint8Array {
  const c = coefficients(horizontal ? w : h, outLen);
  const ow = horizontal ? outLen : w;
  const oh = horizontal ? h : outLen;
  const out = new Uint8Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const i = horizontal ? x : y;
      const [xmin, count, base] = [c.bounds[i * 2]!, c.bounds[i * 2 + 1]!, i * c.ksize];
      for (let ch = 0; ch < 3; ch++) {
        let acc = 1 << (PRECISION_BITS - 1);
        for (let j = 0; j < count; j++) {
          const p = horizontal ? (y * w + xmin + j) * 3 : ((xmin + j) * w + x) * 3;
          acc += src[p + ch]! * c.weights[base + j]!;
        }
        out[(y * ow + x) * 3 + ch] = clip8(acc);
      }
    }
  }
  return out;
}

/** Interleaved RGB (w x h) -> interleaved RGB (size x size), bit-exact with PIL `resize((size,size), BICUBIC)`. */
export function pilBicubicResize(rgb: Uint8Array, w: number, h: number, size: number): Uint8Array {
  const horiz = w === size ? rgb : pass(rgb, w, h, size, true);
  return h === size ? horiz : pass(horiz, size, h, size, false);
}
