/**
 * The GPU check travels as one archive (scripts/gpu-bundle.sh): it must stay within 60 MiB (a GPU run takes at most
 * 64 MiB of files along) and run from where it is unpacked with one command, on its own Node 24 (only the system's
 * /usr/bin is on PATH here, whose Node is older or absent), nats-server and Vulkan loader. Its dry run (tiny model,
 * short windows) exports with torch, times raw onnxruntime on webgpu and cpu, serves on webgpu and writes the JSON
 * result, with the GPU goals skipped for lavapipe. (HOME stays the user's: Mesa keeps its compiled shaders there, and a
 * cold cache costs lavapipe ≈ 20 s per new session; nothing else of the check reads it.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LIMIT_BYTES = 60 * 1024 * 1024;

async function bundle(dir: string): Promise<string> {
  await promisify(execFile)("bash", [join(ROOT, "scripts/gpu-bundle.sh"), dir], { cwd: ROOT, maxBuffer: 16 << 20 });
  return join(dir, "ofa-gpu-check.tar.xz");
}

test("gpu bundle - one archive ≤ 60 MiB; unpacked elsewhere, its one command runs the dry-run GPU check on its own Node and writes the result", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-gpu-bundle-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const archive = await bundle(dir);
  const bytes = statSync(archive).size;
  t.diagnostic(`archive ${(bytes / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(bytes <= LIMIT_BYTES, `the archive is ${bytes} bytes, over 60 MiB`);

  const host = join(dir, "host");
  await promisify(execFile)("mkdir", ["-p", host]);
  await promisify(execFile)("tar", ["-xJf", archive, "-C", host]);
  const out = join(host, "result.json");
  const child = spawn("bash", [join(host, "ofa-gpu-check/scripts/gpu-check.sh"), "--dry-run", "--out", out, "--minutes", "4"], {
    cwd: host,
    env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", HOME: process.env.HOME ?? host, ...(process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {}) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr.on("data", (d: Buffer) => (log += d.toString()));
  t.after(() => child.exitCode === null && child.kill("SIGKILL"));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, log.slice(-3000));

  const result = JSON.parse(await readFile(out, "utf8")) as {
    dryRun: boolean;
    host: { node: string };
    adapter: { found: boolean };
    model: { exported: { ok: boolean } };
    raw: Array<{ ok: boolean; reason?: string; value?: { provider: string; precision: string; points: Array<{ batch: number; samplesPerSec: number }> } }>;
    service: { ok: boolean; reason?: string; value?: { closed: { verdictsPerSec: number; errors: number }; halfLoad: { p95Ms: number; errors: number } } };
    goals: unknown[];
    skipped: string[];
  };
  assert.equal(result.dryRun, true);
  assert.match(result.host.node, /^v24\./, "the carried Node ran the check");
  assert.equal(result.adapter.found, true);
  assert.equal(result.model.exported.ok, true, "the tiny model was exported with torch on the host");
  const cells = result.raw.filter((r) => r.ok).map((r) => `${r.value!.provider} ${r.value!.precision}`);
  assert.deepEqual(cells.sort(), ["cpu fp32", "webgpu fp16", "webgpu fp32"], JSON.stringify(result.raw.map((r) => r.reason)));
  for (const r of result.raw) assert.deepEqual(r.value!.points.map((p) => p.batch), [1, 2]);
  assert.equal(result.service.ok, true, result.service.reason);
  assert.ok(result.service.value!.closed.verdictsPerSec > 0);
  assert.equal(result.service.value!.closed.errors + result.service.value!.halfLoad.errors, 0);
  assert.ok(result.service.value!.halfLoad.p95Ms > 0);
  assert.deepEqual(result.goals, []);
  assert.match(result.skipped.join(" "), /software Vulkan device|dry run/);
});
