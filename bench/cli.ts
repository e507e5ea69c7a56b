/**
 * The `cli` section: how fast the command line answers, next to the floor (a bare `node -e 0` measured in the same
 * run). `--help` must not load the supervisor's dependencies; `classify` is a whole round trip against a running
 * service (connect, publish, verdict, exit); `serve → ready` is a worker process started, its model loaded and
 * consuming. Medians of ≥ 5 runs each, wall time, one process at a time.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { NatsServer } from "../test/harness/nats-server.ts";
import { benchJpegs } from "./fixtures.ts";
import { goal, type Goal } from "./goals.ts";
import { ServiceUnderTest } from "./service.ts";
import { median } from "./stats.ts";

const BIN = fileURLToPath(new URL("../bin/ofa-entail.mjs", import.meta.url));
const RUNS = 7;
const READY_RUNS = 3;
const READY_TIMEOUT_MS = 120_000;
const run = promisify(execFile);

export interface CliResults {
  readonly runs: number;
  readonly node: string;
  /** Median wall seconds. */
  readonly floorS: number;
  readonly helpS: number;
  readonly classifyS: number;
  readonly serveReadyS: number;
  readonly samples: { readonly floor: number[]; readonly help: number[]; readonly classify: number[]; readonly serveReady: number[] };
}

async function wallS(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const t0 = performance.now();
  await run(file, args, { env, timeout: 60_000 });
  return (performance.now() - t0) / 1000;
}

async function repeat(times: number, once: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push(await once());
  return out;
}

/** Starts `serve` on the tiny model `times` times and times each from spawn to /readyz 200. */
async function serveReady(natsUrl: string, modelDir: string, logDir: string, times: number): Promise<number[]> {
  return repeat(times, async () => {
    const t0 = performance.now();
    const service = await ServiceUnderTest.start({ natsUrl, env: { OFA_MODEL_DIR: modelDir, OFA_WORKERS: "1" }, logFile: join(logDir, "cli.serve.log") });
    try {
      await service.waitReady(READY_TIMEOUT_MS);
      return (performance.now() - t0) / 1000;
    } finally {
      await service.stop();
    }
  });
}

export async function measureCli(modelDir: string, logDir: string, say: (line: string) => void): Promise<CliResults> {
  say(`cli: node -e 0, ofa-entail --help, ofa-entail classify (median of ${RUNS}); serve → ready (median of ${READY_RUNS})`);
  const floor = await repeat(RUNS, () => wallS(process.execPath, ["-e", "0"]));
  const help = await repeat(RUNS, () => wallS(process.execPath, [BIN, "--help"]));
  const nats = await NatsServer.start();
  const dir = await mkdtemp(join(tmpdir(), "ofa-bench-cli-"));
  try {
    const image = join(dir, "image.jpg");
    await writeFile(image, (await benchJpegs(1))[0]!);
    const serveReadyS = await serveReady(nats.url, modelDir, logDir, READY_RUNS);
    const service = await ServiceUnderTest.start({ natsUrl: nats.url, env: { OFA_MODEL_DIR: modelDir, OFA_WORKERS: "1" }, logFile: join(logDir, "cli.serve.log") });
    try {
      await service.waitReady(READY_TIMEOUT_MS);
      // Each classify asks a new question (the verdict cache is off in the bench's service anyway).
      let n = 0;
      const classify = await repeat(RUNS, () => wallS(process.execPath, [BIN, "classify", "--nats", nats.url, "--image", image, "--text", `a picture number ${n++}`]));
      return {
        runs: RUNS,
        node: process.version,
        floorS: median(floor),
        helpS: median(help),
        classifyS: median(classify),
        serveReadyS: median(serveReadyS),
        samples: { floor, help, classify, serveReady: serveReadyS },
      };
    } finally {
      await service.stop();
    }
  } finally {
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Issue 12's goals: measured on an idle 2-core machine; the floor is reported beside them, not subtracted. */
export function cliGoals(r: CliResults): Goal[] {
  return [goal("cli.help_s", r.helpS, 0.3, "lower"), goal("cli.classify_s", r.classifyS, 0.5, "lower")];
}

export function renderCli(r: CliResults): string {
  const row = (what: string, s: number, samples: readonly number[]) => `| ${what} | ${s.toFixed(3)} | ${samples.map((x) => x.toFixed(2)).join(", ")} |`;
  return [
    `## CLI start-up (${r.node}, wall seconds, median of ${r.runs}; serve → ready: median of ${r.samples.serveReady.length})`,
    "",
    "| what | median s | runs |",
    "| --- | --- | --- |",
    row("floor: `node -e 0`", r.floorS, r.samples.floor),
    row("`ofa-entail --help`", r.helpS, r.samples.help),
    row("`ofa-entail classify` against a running service (tiny model), whole round trip", r.classifyS, r.samples.classify),
    row("`ofa-entail serve` → /readyz 200 (1 worker, tiny model loaded, consuming)", r.serveReadyS, r.samples.serveReady),
    "",
  ].join("\n");
}
