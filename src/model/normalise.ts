/**
 * HWC uint8 RGB → CHW float32, (p/255 − mean) / std per channel — the reference's ToTensor + Normalize.
 * A 256-entry table per channel holds exactly the values the arithmetic gives (computed in double, stored as
 * float32), so the loop is one load and one store per value.
 */
export interface NormaliseSpec {
  readonly size: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

const tables = new Map<string, Float32Array>();

function table(mean: readonly number[], std: readonly number[]): Float32Array {
  const key = `${mean.join(",")}/${std.join(",")}`;
  let t = tables.get(key);
  if (!t) {
    t = new Float32Array(3 * 256);
    for (let c = 0; c < 3; c++) {
      const scale = 1 / (255 * std[c]!);
      const shift = mean[c]! / std[c]!;
      for (let v = 0; v < 256; v++) t[c * 256 + v] = v * scale - shift;
    }
    tables.set(key, t);
  }
  return t;
}

export function normalise(rgb: Uint8Array, spec: NormaliseSpec): Float32Array {
  const plane = spec.size * spec.size;
  const out = new Float32Array(3 * plane);
  const t = table(spec.mean, spec.std);
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    const lut = t.subarray(c * 256, c * 256 + 256);
    for (let i = 0, j = c; i < plane; i++, j += 3) out[base + i] = lut[rgb[j]!]!;
  }
  return out;
}
