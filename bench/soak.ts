/**
 * Soak: steady load against a fresh `ofa-entail serve` for a set time, sampling every worker's memory, and the
 * slope of each worker's RSS (MB/min, least squares over the samples after the warm-up). Not part of the test suite:
 * a flat memory line needs tens of minutes (issue 24 asks for 30).
 *
 *   node bench/soak.ts --rate 60 --duration 30m                 # the soak of issue 24
 *   node bench/soak.ts --bursts 2 --burst-size 3000 --idle 30s   # bursts, then idle: what is kept, and by whom
 *
 * Options: --rate R (requests/s, open model), --duration D, --warmup D (left out of the slope; default 1/5 of the
 * run, at most 2 min), --sample D (default 5s), --idle D (sampling after the load), --workers N (default 2),
 * --image WxH (default 640x480), --bursts K --burst-size N (instead of --rate: K bursts of N, 64 outstanding),
 * --gc-at-idle (halfway through the idle time each worker runs a full GC: what V8 gives back),
 * --out FILE (the sampled JSON; nothing is written unless given; the summary goes to stdout).
 * OFA_* and MALLOC_ARENA_MAX in the environment reach the service (e.g. MALLOC_ARENA_MAX=2 to compare).
 * Each sample splits a worker's RSS: the main thread's V8 heap (process.memoryUsage(), via bench/memory-hook.mjs),
 * external + ArrayBuffers, anonymous vs file-backed RSS (/proc/<pid>/status), and the rest.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { NatsServer } from "../test/harness/nats-server.ts";
import { runChild } from "./children.ts";
import type { LoadProgress, LoadResult, LoadSpec } from "./load.ts";
import { ServiceUnderTest } from "./service.ts";

const MB = 1024 * 1024;
const HOOK = new URL("./memory-hook.mjs", import.meta.url).href;

interface Sample {
  readonly atMs: number;
  readonly phase: "load" | "idle";
  readonly pid: number;
  readonly rssMb: number;
  readonly anonMb: number;
  readonly fileMb: number;
  readonly heapUsedMb?: number;
  readonly heapTotalMb?: number;
  readonly externalMb?: number;
}

function duration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms"];
}

function kb(status: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) / 1024;
}

function lastHookLine(dir: string, pid: number): Record<string, number> | undefined {
  try {
    const lines = readFileSync(join(dir, `${pid}.jsonl`), "utf8").trim().split("\n");
    return JSON.parse(lines.at(-1)!) as Record<string, number>;
  } catch {
    return undefined;
  }
}

function sampleWorker(pid: number, atMs: number, phase: Sample["phase"], hookDir: string): Sample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const hook = lastHookLine(hookDir, pid);
    return {
      atMs, phase, pid,
      rssMb: kb(status, "VmRSS"), anonMb: kb(status, "RssAnon"), fileMb: kb(status, "RssFile"),
      ...(hook ? { heapUsedMb: hook.heapUsed! / MB, heapTotalMb: hook.heapTotal! / MB, externalMb: hook.external! / MB } : {}),
    };
  } catch {
    return undefined; // the worker exited (a restart): its pid is gone
  }
}

/** Least-squares slope of y over x (minutes), MB/min. */
function slopeMbPerMin(points: ReadonlyArray<{ atMs: number; rssMb: number }>): number {
  if (points.length < 2) return 0;
  const xs = points.map((p) => p.atMs / 60_000);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = points.reduce((a, p) => a + p.rssMb, 0) / points.length;
  let num = 0;
  let den = 0;
  points.forEach((p, i) => {
    num += (xs[i]! - mx) * (p.rssMb - my);
    den += (xs[i]! - mx) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: "string" }, duration: { type: "string", default: "1m" }, warmup: { type: "string" }, sample: { type: "string", default: "5s" },
      idle: { type: "string", default: "0s" }, workers: { type: "string", default: "2" }, image: { type: "string", default: "640x480" },
      bursts: { type: "string" }, "burst-size": { type: "string", default: "3000" }, out: { type: "string" }, "gc-at-idle": { type: "boolean", default: false },
    },
  });
  const [width, height] = values.image!.split("x").map(Number) as [number, number];
  const durationMs = duration(values.duration!);
  const warmupMs = values.warmup !== undefined ? duration(values.warmup) : Math.min(120_000, durationMs / 5);
  const sampleMs = duration(values.sample!);
  const idleMs = duration(values.idle!);
  const hookDir = mkdtempSync(join(tmpdir(), "ofa-soak-"));
  const nats = await NatsServer.start();
  const service = await ServiceUnderTest.start({
    natsUrl: nats.url,
    logFile: join(hookDir, "service.log"),
    env: {
      OFA_WORKERS: values.workers!, OFA_CACHE_TTL_MS: "0",
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${HOOK}`.trim(),
      BENCH_MEMORY_DIR: hookDir, BENCH_MEMORY_EVERY_MS: String(Math.max(1000, sampleMs / 2)),
    },
  });
  const samples: Sample[] = [];
  const publisher: LoadResult[] = [];
  const t0 = Date.now();
  let phase: Sample["phase"] = "load";
  let pids: number[] = [];
  const sampler = setInterval(() => {
    void service.workerPids().then((p) => (pids = p), () => undefined);
    for (const pid of pids) {
      const s = sampleWorker(pid, Date.now() - t0, phase, hookDir);
      if (s) samples.push(s);
    }
  }, sampleMs);
  try {
    await service.waitReady(120_000);
    pids = await service.workerPids();
    const image = { width, height };
    const specs: LoadSpec[] = values.bursts !== undefined
      ? Array.from({ length: Number(values.bursts) }, () => ({ mode: "saturate", natsUrl: nats.url, window: 64, durationMs: 3_600_000, maxCount: Number(values["burst-size"]), timeoutMs: 120_000, image }))
      : [{ mode: "open", natsUrl: nats.url, ratePerSec: Number(values.rate ?? 60), durationMs, timeoutMs: 60_000, image }];
    for (const spec of specs) {
      const child = runChild<LoadSpec, LoadProgress, LoadResult>("./load.ts", spec);
      publisher.push(await child.result);
      process.stderr.write(`soak: ${spec.mode} done at ${((Date.now() - t0) / 1000).toFixed(0)} s; workers ${pids.map((p) => `${p}: ${samples.filter((s) => s.pid === p).at(-1)?.rssMb.toFixed(0)} MB`).join(", ")}\n`);
    }
    phase = "idle";
    if (values["gc-at-idle"]) {
      await new Promise((r) => setTimeout(r, idleMs / 2));
      for (const pid of pids) process.kill(pid, "SIGUSR2"); // bench/memory-hook.mjs: a full GC in each worker
      process.stderr.write(`soak: full GC requested in the workers at ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    }
    await new Promise((r) => setTimeout(r, values["gc-at-idle"] ? idleMs / 2 : idleMs));
  } finally {
    clearInterval(sampler);
    await service.stop();
    await nats.stop();
  }
  const loadEnd = Math.max(...samples.filter((s) => s.phase === "load").map((s) => s.atMs));
  const workers = [...new Set(samples.map((s) => s.pid))].map((pid) => {
    const mine = samples.filter((s) => s.pid === pid);
    const steady = mine.filter((s) => s.phase === "load" && s.atMs >= warmupMs);
    const at = (s: Sample | undefined) => s && { atS: Math.round(s.atMs / 1000), rssMb: +s.rssMb.toFixed(1), anonMb: +s.anonMb.toFixed(1), fileMb: +s.fileMb.toFixed(1), heapUsedMb: s.heapUsedMb && +s.heapUsedMb.toFixed(1), heapTotalMb: s.heapTotalMb && +s.heapTotalMb.toFixed(1), externalMb: s.externalMb && +s.externalMb.toFixed(1) };
    return {
      pid,
      rssSlopeMbPerMin: +slopeMbPerMin(steady).toFixed(2),
      first: at(mine[0]), afterWarmup: at(steady[0]), endOfLoad: at(mine.filter((s) => s.atMs <= loadEnd).at(-1)), endOfIdle: at(mine.at(-1)),
      maxRssMb: +Math.max(...mine.map((s) => s.rssMb)).toFixed(1),
    };
  });
  const report = {
    at: new Date(t0).toISOString(),
    settings: { rate: values.bursts ? undefined : Number(values.rate ?? 60), durationMs, warmupMs, sampleMs, idleMs, workers: Number(values.workers), image: values.image, bursts: values.bursts ? { count: Number(values.bursts), size: Number(values["burst-size"]) } : undefined, mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null },
    publisher: publisher.map((p) => ({ sent: p.sent, ok: p.ok, failed: p.failed, failures: p.failures, p99Ms: +p.latency.p99Ms.toFixed(1), wallS: +(p.wallMs / 1000).toFixed(1) })),
    workers,
    samples,
  };
  if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 1)}\n`);
  const { samples: _omitted, ...summary } = report;
  process.stdout.write(`${JSON.stringify(summary, null, 1)}\n`);
  rmSync(hookDir, { recursive: true, force: true });
}

await main();
