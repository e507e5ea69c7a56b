// Preloaded (NODE_OPTIONS=--import) into every process of the service by bench/soak.ts when BENCH_MEMORY_DIR is set:
// every BENCH_MEMORY_EVERY_MS (default 5000) appends this process's process.memoryUsage() to <dir>/<pid>.jsonl, so
// the soak can split a worker's RSS into the main thread's V8 heap, its external/ArrayBuffer memory and the rest
// (native: onnxruntime, libvips, glibc arenas, the worker threads' own isolates). Nothing in src/ changes.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";

const dir = process.env.BENCH_MEMORY_DIR;
if (dir && isMainThread) {
  const every = Number(process.env.BENCH_MEMORY_EVERY_MS ?? 5000);
  const file = join(dir, `${process.pid}.jsonl`);
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
  }, every);
  timer.unref();
}
