/**
 * Parity: the default resize (WebAssembly SIMD, src/model/wasm-resample.ts, and its TypeScript twin
 * src/model/pil-resample.ts) is byte-identical to Debian's python3-pil `Image.resize((480, 480), BICUBIC)` on
 * the same decoded pixels, at the sizes photos come in (VGA, XGA, a 12 MP phone photo), an extreme aspect
 * ratio (up in x, down in y) and the identity. Pixels are noise over gradients, so every tap weight matters.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pillowResize } from "../../bench/pillow.ts";
import { pilBicubicResize } from "../../src/model/pil-resample.ts";
import { WasmResampler } from "../../src/model/wasm-resample.ts";

const SIZES: readonly [number, number][] = [[640, 480], [1024, 768], [4032, 3024], [37, 1500], [480, 480]];

function pixels(w: number, h: number, seed: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const x = ((i / 3) | 0) % w;
    out[i] = (128 + 90 * Math.sin(x / 17 + (i % 3)) + ((s >>> 24) - 128) / 3) & 255;
  }
  return out;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

test("parity - the default resize equals Pillow's bicubic byte for byte at photo sizes, 37x1500 and 480x480", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-parity-resize-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const inputs = SIZES.map(([w, h], i) => ({ w, h, rgb: pixels(w, h, i + 1), in: join(dir, `in${i}.raw`), out: join(dir, `out${i}.raw`) }));
  for (const x of inputs) await writeFile(x.in, x.rgb);
  await pillowResize(inputs.map((x) => ({ in: x.in, out: x.out, w: x.w, h: x.h, size: 480, reps: 1 })));
  const wasm = new WasmResampler();
  for (const x of inputs) {
    const want = new Uint8Array(await readFile(x.out));
    const viaWasm = wasm.resizeView(x.rgb, x.w, x.h, 480);
    const viaTs = pilBicubicResize(x.rgb, x.w, x.h, 480);
    assert.equal(firstDifference(viaWasm, want), -1, `${x.w}x${x.h}: wasm differs from Pillow`);
    assert.equal(firstDifference(viaTs, want), -1, `${x.w}x${x.h}: TypeScript differs from Pillow`);
  }
});
