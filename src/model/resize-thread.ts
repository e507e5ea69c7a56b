/**
 * Runs in a worker_threads thread of the preprocessing pool (resizer.ts): Pillow-exact bicubic resize
 * (wasm-resample.ts, ≈ 2.5 ms for a 1024×768 photo) fused with the normalisation, so the worker's main thread,
 * which must keep heartbeating, acking and pulling, only decodes (in libvips' threads) and hands pixels over.
 */
import { parentPort } from "node:worker_threads";
import { normalise, type NormaliseSpec } from "./normalise.ts";
import { pilBicubicResize } from "./pil-resample.ts";
import { WasmResampler } from "./wasm-resample.ts";

export interface ResizeRequest {
  id: number;
  rgb: Uint8Array;
  width: number;
  height: number;
  spec: NormaliseSpec;
}

/** Wasm memory only grows; after a rare huge image (up to OFA_MAX_IMAGE_PIXELS) the instance is dropped instead. */
const KEEP_MEMORY_BYTES = 64 * 1024 * 1024;

/** The TypeScript passes are the fallback for a runtime without WebAssembly SIMD (none of the supported Node versions). */
function resampler(): (rgb: Uint8Array, w: number, h: number, size: number) => Uint8Array {
  let wasm: WasmResampler;
  try {
    wasm = new WasmResampler();
  } catch {
    return pilBicubicResize;
  }
  return (rgb, w, h, size) => {
    if (wasm.memoryBytes > KEEP_MEMORY_BYTES) wasm = new WasmResampler();
    return wasm.resizeView(rgb, w, h, size);
  };
}

const resize = resampler();

parentPort!.on("message", (req: ResizeRequest) => {
  let out: Float32Array;
  try {
    out = normalise(resize(req.rgb, req.width, req.height, req.spec.size), req.spec);
  } catch (err) {
    // One image that cannot be resized (e.g. memory) fails its own request, not the thread.
    parentPort!.postMessage({ id: req.id, error: (err as Error).message });
    return;
  }
  parentPort!.postMessage({ id: req.id, pixels: out }, [out.buffer as ArrayBuffer]);
});
