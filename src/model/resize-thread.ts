/**
 * Runs in a worker_threads thread: Pillow-exact bicubic resizes (pil-resample.ts). The pure-JS resample costs
 * ~40 ms for a 1024×768 photo and ~0.4 s for 12 MP; here it never blocks the worker's main thread, which must keep
 * heartbeating, acking and pulling while images are resized.
 */
import { parentPort } from "node:worker_threads";
import { pilBicubicResize } from "./pil-resample.ts";

export interface ResizeRequest {
  id: number;
  rgb: Uint8Array;
  width: number;
  height: number;
  size: number;
}

parentPort!.on("message", (req: ResizeRequest) => {
  const out = pilBicubicResize(req.rgb, req.width, req.height, req.size);
  parentPort!.postMessage({ id: req.id, rgb: out }, [out.buffer as ArrayBuffer]);
});
