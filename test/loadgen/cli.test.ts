import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "../../loadgen/index.ts";
import { startStack } from "./fixtures/stack.ts";

const BIN = fileURLToPath(new URL("../../bin/ofa-entail-loadgen.mjs", import.meta.url));
const CLI_TIMEOUT_MS = 30_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real executable (shebang shim → loadgen/main.ts, types stripped by Node 24), bounded by CLI_TIMEOUT_MS. */
function cli(args: readonly string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(BIN, args, { timeout: CLI_TIMEOUT_MS, killSignal: "SIGKILL", env: { ...process.env, NATS_URL: "" } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test("loadgen cli - an open run prints the summary, writes both reports and exits 0", async (t) => {
  const { url } = await startStack(t, { serviceMs: 10 });
  const out = await mkdtemp(join(tmpdir(), "ofa-loadgen-cli-"));
  t.after(() => rm(out, { recursive: true, force: true }));
  const r = await cli(["--rate", "20", "--duration", "1s", "--timeout", "5s", "--generate", "3", "--nats", url, "--out", out]);

  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /accounting: sent 20 = ok 20 \+ errored 0 \+ timed out 0 \(in flight at end 0\) ✓ balanced/);
  for (const row of ["requests/s", "p50", "p90", "p95", "p99", "p99.9", "max", "error rate"]) assert.ok(r.stdout.includes(row), `summary shows ${row}`);
  assert.match(r.stderr, /\{"progress":\{/, "JSON progress lines when stderr is not a TTY");
  await access(join(out, "report.html"));
  const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as Report;
  assert.equal(report.accounting.sent, 20);
  assert.equal(report.workload.images, 3);
});

test("loadgen cli - bad flags exit 2 listing every problem", async () => {
  const r = await cli(["--rate", "fast", "--think", "2s..1s"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /OFA_LOADGEN_ERR_OPTIONS/);
  assert.match(r.stderr, /--rate: "fast"/);
  assert.match(r.stderr, /--think: range "2s\.\.1s"/);
});

test("loadgen cli - an unreachable NATS server exits 1 with OFA_LOADGEN_ERR_CONNECT", async () => {
  const r = await cli(["--rate", "1", "--duration", "1s", "--generate", "1", "--nats", "nats://127.0.0.1:1"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /OFA_LOADGEN_ERR_CONNECT/);
});
