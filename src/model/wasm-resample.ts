/**
 * The Pillow-exact bicubic resize on WebAssembly SIMD (src/model/wasm/resample.wat): the tables come from
 * pil-resample.ts (the same doubles, so the same fixed-point weights), the two convolution passes run in wasm.
 * One instance per thread; its memory is reused from call to call and grows to the largest image seen.
 *
 * Why wasm and not a native addon: the committed .wasm (≈ 600 bytes, rebuilt from its source by
 * `npm run build:wasm`) needs no compiler, no prebuilt binary download and no platform-specific package, so a
 * fresh `npm ci` and the Docker images get it for free; SIMD is in every Node ≥ 16.4.
 */
import { readFileSync } from "node:fs";
import { coefficients, type Coeffs } from "./pil-resample.ts";

/** The few WebAssembly API pieces used here (the project's TypeScript libs do not declare WebAssembly). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: WasmMemory;
  hpass(src: number, w: number, h: number, dst: number, outW: number, bounds: number, weights: number, ksize: number): void;
  vpass(src: number, rowLen: number, dst: number, outH: number, bounds: number, weights: number, ksize: number): void;
}

const PAD = 16; // the wasm loops may read and write up to 16 bytes past a buffer
const PAGE = 65536;
const align = (n: number) => (n + 15) & ~15;

let compiled: object | undefined;
function module(): object {
  compiled ??= new WebAssembly.Module(readFileSync(new URL("./wasm/resample.wasm", import.meta.url)));
  return compiled;
}

/** Horizontal weights splatted to four lanes, so the wasm inner loop loads a ready v128 per tap. */
const splatCache = new WeakMap<Coeffs, Int32Array>();
function splatted(c: Coeffs): Int32Array {
  let s = splatCache.get(c);
  if (!s) {
    s = new Int32Array(c.weights.length * 4);
    for (let i = 0; i < c.weights.length; i++) s.fill(c.weights[i]!, i * 4, i * 4 + 4);
    splatCache.set(c, s);
  }
  return s;
}

export class WasmResampler {
  private readonly exports: Exports;

  constructor() {
    this.exports = new WebAssembly.Instance(module()).exports as unknown as Exports;
  }

  /**
   * Interleaved RGB (w × h) → interleaved RGB (size × size), bit-exact with PIL `resize((size,size), BICUBIC)`.
   * The result is a view into this instance's memory, valid until the next call (or `rgb` itself at the same size).
   */
  resizeView(rgb: Uint8Array, w: number, h: number, size: number): Uint8Array {
    const horiz = w !== size;
    const vert = h !== size;
    if (!horiz && !vert) return rgb; // Pillow returns a copy of the pixels: nothing to compute
    const ch = horiz ? coefficients(w, size) : undefined;
    const cv = vert ? coefficients(h, size) : undefined;
    const hw = ch ? splatted(ch) : undefined;
    // Layout: [h bounds][h weights][v bounds][v weights][src][mid][dst], each 16-aligned and padded.
    let off = 0;
    const take = (bytes: number) => {
      const at = off;
      off = align(off + bytes + PAD);
      return at;
    };
    const hb = take(ch ? ch.bounds.byteLength : 0);
    const hwAt = take(hw ? hw.byteLength : 0);
    const vb = take(cv ? cv.bounds.byteLength : 0);
    const vw = take(cv ? cv.weights.byteLength : 0);
    const src = take(rgb.byteLength);
    const mid = horiz && vert ? take(size * h * 3) : src;
    const dst = horiz || vert ? take(size * size * 3) : src;
    const mem = this.memoryOf(off);
    const bytes = new Uint8Array(mem.buffer);
    bytes.set(rgb, src);
    if (ch) {
      new Int32Array(mem.buffer, hb, ch.bounds.length).set(ch.bounds);
      new Int32Array(mem.buffer, hwAt, hw!.length).set(hw!);
    }
    if (cv) {
      new Int32Array(mem.buffer, vb, cv.bounds.length).set(cv.bounds);
      new Int32Array(mem.buffer, vw, cv.weights.length).set(cv.weights);
    }
    if (horiz) this.exports.hpass(src, w, h, vert ? mid : dst, size, hb, hwAt, ch!.ksize);
    if (vert) this.exports.vpass(horiz ? mid : src, size * 3, dst, size, vb, vw, cv!.ksize);
    return bytes.subarray(dst, dst + size * size * 3);
  }

  /** Bytes of wasm memory this instance holds (it never shrinks; drop the instance to give it back). */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  private memoryOf(bytes: number): WasmMemory {
    const mem = this.exports.memory;
    const missing = bytes - mem.buffer.byteLength;
    if (missing > 0) mem.grow(Math.ceil(missing / PAGE));
    return mem;
  }
}
