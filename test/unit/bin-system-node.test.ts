import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The bin shims on the system Node (Debian's, v20 here): they must load there and hand the command to Node 24, so
 * nothing Node-24-only may be imported before the hand-over (a static named import of node:module's
 * enableCompileCache failed with a SyntaxError on Node 20).
 */
const SYSTEM_NODE = "/usr/bin/node";
const root = fileURLToPath(new URL("../..", import.meta.url));

function run(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(SYSTEM_NODE, [bin, ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

for (const [bin, usage] of [["bin/ofa-entail.mjs", "Usage: ofa-entail"], ["bin/ofa-entail-loadgen.mjs", "Usage: ofa-entail-loadgen"]] as const) {
  test(`bin shims - ${bin} --help works under the system Node`, { skip: !existsSync(SYSTEM_NODE) && `${SYSTEM_NODE} is absent` }, async () => {
    const r = await run(bin, ["--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(usage));
  });
}
