/** How child processes and threads run this TypeScript code base (tsx at run time; no build step). */
import { fileURLToPath } from "node:url";

/** execArgv for a forked Node process so that it can load .ts files. */
export function tsxExecArgv(): string[] {
  return ["--import", import.meta.resolve("tsx")];
}

/** The bootstrap that makes a worker thread load a .ts entry (see ts-thread.mjs). */
export const TS_THREAD_BOOT = new URL("./ts-thread.mjs", import.meta.url);

export function threadEntry(url: URL): string {
  return fileURLToPath(url);
}
