/**
 * The GPU check's phases (bench/gpu/check.ts): export the model where torch is, time raw onnxruntime per provider
 * and precision, then the service for a fixed window. Each phase is bounded by what is left of the check's time and
 * reports a failure as a reason instead of ending the check.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runLoad } from "../../loadgen/index.ts";
import { NatsServer } from "../../test/harness/nats-server.ts";
import { ServiceUnderTest } from "../service.ts";
import { runChild } from "../children.ts";
import type { RawProgress, RawResult, RawSpec } from "../raw-ort.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = process.env.OFA_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

export type Outcome<T> = { readonly ok: true; readonly value: T; readonly seconds: number } | { readonly ok: false; readonly reason: string; readonly seconds: number };

/** Runs `fn` with a deadline; its failure or overrun becomes the outcome's reason. */
export async function phase<T>(name: string, budgetMs: number, fn: (budgetMs: number) => Promise<T>, say: (line: string) => void): Promise<Outcome<T>> {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 100) / 10;
  if (budgetMs < 5_000) return { ok: false, reason: `${name}: skipped, ${Math.round(budgetMs / 1000)} s of the check's time left`, seconds: 0 };
  say(`${name} (≤ ${Math.round(budgetMs / 1000)} s)`);
  try {
    const value = await fn(budgetMs);
    say(`${name} done in ${seconds()} s`);
    return { ok: true, value, seconds: seconds() };
  } catch (err) {
    const reason = `${name}: ${err instanceof Error ? err.message.split("\n").slice(0, 3).join(" | ") : String(err)}`;
    say(reason);
    return { ok: false, reason, seconds: seconds() };
  }
}

function runProcess(cmd: string, args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: ROOT, env, timeout: Math.max(1, Math.floor(timeoutMs)), killSignal: "SIGKILL", maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[cmd, ...args].join(" ").slice(0, 200)} failed (${err.killed ? "timed out" : `code ${String(err.code)}`}): ${String(stderr).trim().split("\n").slice(-3).join(" | ")}`));
      else resolve(String(stdout));
    });
  });
}

export interface Exported {
  readonly dir: string;
  readonly fp16: boolean;
  readonly torch: string;
}

/** Exports `config` (large: OFA-large's shape, random weights) with both graph forms, fp16 too when onnx is importable. */
export async function exportModel(config: string, out: string, budgetMs: number): Promise<Exported> {
  const torch = (await runProcess(PYTHON, ["-c", "import torch; print(torch.__version__)"], 60_000)).trim();
  const fp16 = await runProcess(PYTHON, ["-c", "import onnx"], 60_000).then(() => true, () => false);
  const args = [join(ROOT, "models/export/export.py"), "--config", config, "--seed", "0", "--providers", "cpu,webgpu", "--out", out, ...(fp16 ? ["--fp16"] : [])];
  await runProcess(PYTHON, args, budgetMs, { ...process.env, OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? "8" });
  return { dir: out, fp16, torch };
}

/** Raw onnxruntime on one provider (bench/raw-ort.ts, the bench's own loop) in its own process, killed past `budgetMs`. */
export async function rawCell(spec: RawSpec, budgetMs: number): Promise<RawResult> {
  const child = runChild<RawSpec, RawProgress, RawResult>("./raw-ort.ts", spec);
  const timer = setTimeout(() => child.kill(), Math.max(1, Math.floor(budgetMs)));
  try {
    return await child.result;
  } finally {
    clearTimeout(timer);
  }
}

export interface ServiceWindow {
  readonly precision: string;
  readonly maxBatch: number;
  readonly closed: { readonly users: number; readonly seconds: number; readonly verdictsPerSec: number; readonly errors: number; readonly p50Ms: number; readonly p95Ms: number };
  readonly halfLoad: { readonly ratePerSec: number; readonly seconds: number; readonly verdictsPerSec: number; readonly p50Ms: number; readonly p95Ms: number; readonly p99Ms: number; readonly errors: number };
  readonly placement: unknown;
}

/**
 * The real service (`ofa-entail serve`, webgpu, the model at `dir`) against its own nats-server: a closed-loop window
 * at twice the batch limit in users (throughput), then an open-loop window at half that throughput (latency).
 */
export async function serviceWindow(dir: string, precision: string, windowMs: number, logFile: string): Promise<ServiceWindow> {
  const ns = await NatsServer.start();
  const maxBatch = 16;
  const service = await ServiceUnderTest.start({
    natsUrl: ns.url,
    env: { OFA_MODEL_DIR: dir, OFA_EXECUTION_PROVIDER: "webgpu", OFA_PRECISION: precision, OFA_MAX_BATCH: String(maxBatch), OFA_LOG_LEVEL: "warn" },
    logFile,
  });
  try {
    await service.waitReady(5 * 60_000);
    const status = (await (await fetch(`${service.adminUrl}/status`)).json()) as { workers: Array<{ placement?: unknown }> };
    const common = { natsUrl: ns.url, timeoutMs: 60_000, warmupMs: Math.min(5_000, windowMs / 4), images: { kind: "generate", count: 32, minSide: 320, maxSide: 1024 } as const };
    const closed = await runLoad({ ...common, users: 2 * maxBatch, spawnRatePerSec: 1000, durationMs: windowMs });
    const rate = Math.max(1, Math.floor(closed.summary.okPerSec / 2));
    const half = await runLoad({ ...common, ratePerSec: rate, durationMs: Math.max(windowMs / 2, 5_000) });
    const errors = (r: typeof closed) => r.summary.counts.errored + r.summary.counts.timedOut;
    return {
      precision,
      maxBatch,
      closed: { users: 2 * maxBatch, seconds: closed.summary.measuredMs / 1000, verdictsPerSec: closed.summary.okPerSec, errors: errors(closed), p50Ms: closed.summary.latency.p50Ms, p95Ms: closed.summary.latency.p95Ms },
      halfLoad: { ratePerSec: rate, seconds: half.summary.measuredMs / 1000, verdictsPerSec: half.summary.okPerSec, p50Ms: half.summary.latency.p50Ms, p95Ms: half.summary.latency.p95Ms, p99Ms: half.summary.latency.p99Ms, errors: errors(half) },
      placement: status.workers[0]?.placement,
    };
  } finally {
    await service.stop();
    await ns.stop();
  }
}

/** `nvidia-smi -L` when there is one: the GPU as its driver names it, beside the Vulkan adapter. */
export function nvidiaSmi(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn("nvidia-smi", ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("error", () => resolve(undefined));
    child.once("close", (code) => resolve(code === 0 ? out.trim() : undefined));
  });
}
