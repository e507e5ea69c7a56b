// Boots a TypeScript worker_threads entry. Node 20 does not run the main thread's loader hooks (tsx) in
// worker threads, so each thread registers tsx itself and imports the entry named in workerData.entry.
import { workerData } from "node:worker_threads";
import { tsImport } from "tsx/esm/api";

await tsImport(workerData.entry, import.meta.url);
