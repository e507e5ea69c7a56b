// Preloaded (NODE_OPTIONS=--import) into every process of the service by bench/soak.ts when BENCH_MEMORY_DIR is set:
// every BENCH_MEMORY_EVERY_MS (default 5000) appends this process's process.memoryUsage() to <dir>/<pid>.jsonl, so
// the soak can split a worker's RSS into the main thread's V8 heap, its external/ArrayBuffer memory and the rest
// (native: onnxruntime, libvips, glibc arenas, the worker threads' own isolates). Nothing in src/ changes.
// The supervisor gets it too; only the workers are sampled.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
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
  // SIGUSR2 (bench/soak.ts --gc-at-idle): a full, memory-reducing GC of the main thread's heap, to tell what V8 keeps
  // committed but unused from what is really held.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc");
  process.on("SIGUSR2", () => gc({ type: "major", execution: "sync" }));
}
