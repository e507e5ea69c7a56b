/**
 * The GPU check: on a GPU host (bare is fine: scripts/gpu-bundle.sh carries Node, the modules, nats-server and the
 * Vulkan loader), within a fixed time, export OFA-large with random weights where torch is, time raw onnxruntime on
 * webgpu vs cpu at batch 1, 8, 16 (fp32 and fp16), run the service on webgpu for a fixed window, and write one JSON
 * result with the `gpu.*` goals. `--dry-run` does the same with the tiny model, short windows and small batches: CI
 * runs it on lavapipe (test/infra/gpu-bundle.test.ts), where the goals are recorded as skipped.
 *
 *   scripts/gpu-check.sh [--dry-run] [--model DIR] [--out FILE] [--minutes N] [--window-s N]
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, hostname, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { loadManifest, probeVulkanAdapter, type AdapterProbe } from "../../src/model/index.ts";
import { goal, type Goal } from "../goals.ts";
import { exportModel, nvidiaSmi, phase, rawCell, serviceWindow, type Outcome, type ServiceWindow } from "./phases.ts";
import type { RawResult } from "../raw-ort.ts";

/** One raw cell of the check: raw-ort's result on one provider and precision. */
type RawCell = RawResult & { readonly provider: string; readonly precision: string };

/** The original design's 8.2 requests/s per A10G, ×10: what one H100 on webgpu should reach (issue 22). */
export const GPU_VERDICTS_GOAL = 82;
export const SERVICE_VS_RAW_GOAL = 0.9;

export interface CheckOptions {
  readonly dryRun: boolean;
  readonly modelDir: string | undefined;
  readonly out: string;
  readonly minutes: number;
  readonly windowS: number;
}

export interface CheckResult {
  readonly kind: "ofa-entail-gpu-check";
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly dryRun: boolean;
  readonly host: { readonly hostname: string; readonly cpu: string; readonly cores: number; readonly memoryGiB: number; readonly nvidiaSmi: string | undefined; readonly node: string };
  readonly adapter: AdapterProbe;
  readonly model: { readonly dir: string; readonly name: string; readonly exported: Outcome<unknown> | undefined };
  readonly raw: readonly Outcome<RawCell>[];
  readonly service: Outcome<ServiceWindow> | undefined;
  readonly goals: readonly Goal[];
  /** Goals not judged, and why (no real GPU, a failed phase). */
  readonly skipped: readonly string[];
}

export function parseCheckArgs(argv: readonly string[]): CheckOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { "dry-run": { type: "boolean" }, model: { type: "string" }, out: { type: "string" }, minutes: { type: "string" }, "window-s": { type: "string" } },
  });
  const dryRun = values["dry-run"] === true;
  return {
    dryRun,
    modelDir: values.model,
    out: values.out ?? join(process.cwd(), "gpu-check.json"),
    minutes: Number(values.minutes ?? (dryRun ? 4 : 9)),
    windowS: Number(values["window-s"] ?? (dryRun ? 6 : 60)),
  };
}

export async function runCheck(options: CheckOptions, say: (line: string) => void): Promise<CheckResult> {
  const startedAt = new Date();
  const deadline = startedAt.getTime() + options.minutes * 60_000;
  const left = (reserveMs = 0) => deadline - Date.now() - reserveMs;
  const adapter = await probeVulkanAdapter();
  say(`adapter: ${adapter.found ? `${adapter.adapter.description} (${adapter.adapter.driver})` : adapter.reason}`);
  const work = await mkdtemp(join(tmpdir(), "ofa-gpu-check-"));
  const serviceReserve = (options.windowS * 1.5 + 90) * 1000;

  let exported: Outcome<unknown> | undefined;
  let dir = options.modelDir;
  if (!dir) {
    const config = options.dryRun ? "tiny" : "large";
    const made = await phase(`export ${config} (torch, random weights, cpu and webgpu forms)`, left(serviceReserve + 60_000), (ms) => exportModel(config, join(work, config), ms), say);
    exported = made;
    if (made.ok) dir = made.value.dir;
  }
  const model = dir ? await loadManifest(dir) : undefined;
  const raw: Outcome<RawCell>[] = [];
  if (model) {
    const batches = options.dryRun ? [1, 2] : [1, 8, 16];
    const cells = [
      { provider: "webgpu" as const, precision: "fp32" },
      { provider: "webgpu" as const, precision: "fp16" },
      { provider: "cpu" as const, precision: "fp32" },
    ];
    for (const [i, c] of cells.entries()) {
      if (!graphPath(model, c.provider, c.precision)) {
        raw.push({ ok: false, reason: `raw ${c.provider} ${c.precision}: the model has no such graph`, seconds: 0 });
        continue;
      }
      const share = left(serviceReserve) / (cells.length - i);
      // One untimed run per batch size first: on webgpu it compiles that shape's shaders.
      const spec = { modelDir: model.dir, executionProvider: c.provider, precision: c.precision as "fp32" | "fp16", batches, intraOpThreads: c.provider === "cpu" ? availableParallelism() : 1, warmupRuns: 1, minRuns: options.dryRun ? 3 : 10, minSeconds: 0 };
      raw.push(await phase(`raw ${c.provider} ${c.precision}`, share, async (ms) => ({ ...(await rawCell(spec, ms)), provider: c.provider, precision: c.precision }), say));
    }
  }
  let service: Outcome<ServiceWindow> | undefined;
  if (model && adapter.found) {
    const precision = fasterPrecision(raw);
    service = await phase(`service on webgpu (${precision}), ${options.windowS} s windows`, left(), () => serviceWindow(model.dir, precision, options.windowS * 1000, join(work, "serve.log")), say);
  }
  const { goals, skipped } = judge(options, adapter, raw, service);
  const machine = cpus()[0]?.model ?? "unknown";
  return {
    kind: "ofa-entail-gpu-check",
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    dryRun: options.dryRun,
    host: { hostname: hostname(), cpu: machine, cores: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), nvidiaSmi: await nvidiaSmi(), node: process.version },
    adapter,
    model: { dir: dir ?? "", name: model?.manifest.name ?? "", exported },
    raw,
    service,
    goals,
    skipped,
  };
}

function graphPath(model: Awaited<ReturnType<typeof loadManifest>>, provider: "cpu" | "webgpu", precision: string): string | undefined {
  try {
    const g = model.graphs(precision as "fp32" | "fp16", provider);
    return g.form === "one" ? g.model : undefined;
  } catch {
    return undefined;
  }
}

/** The precision whose raw webgpu cell is faster at its largest batch (fp32 when fp16 did not run). */
function fasterPrecision(raw: readonly Outcome<RawCell>[]): string {
  const best = (p: string) => {
    const cell = raw.find((r) => r.ok && r.value.provider === "webgpu" && r.value.precision === p);
    return cell?.ok ? (cell.value.points.at(-1)?.samplesPerSec ?? 0) : 0;
  };
  return best("fp16") > best("fp32") ? "fp16" : "fp32";
}

/** The `gpu.*` goals, judged only on a real GPU with the OFA-large shape; otherwise each is skipped with the reason. */
export function judge(options: CheckOptions, adapter: AdapterProbe, raw: readonly Outcome<RawCell>[], service: Outcome<ServiceWindow> | undefined): { goals: Goal[]; skipped: string[] } {
  const why = !adapter.found
    ? `no Vulkan adapter (${adapter.reason})`
    : adapter.adapter.software
      ? `the only adapter is ${adapter.adapter.description}, a software Vulkan device (lavapipe): it proves the path, its speed is not a GPU's`
      : options.dryRun
        ? "a dry run measures the tiny model, not OFA-large"
        : !service?.ok
          ? `the service window did not run (${service?.reason ?? "no model"})`
          : undefined;
  if (why) return { goals: [], skipped: [`gpu.large.verdicts_per_s, gpu.large.service_vs_raw: ${why}`] };
  const window = (service as Extract<Outcome<ServiceWindow>, { ok: true }>).value;
  const rawCellOf = raw.find((r) => r.ok && r.value.provider === "webgpu" && r.value.precision === window.precision);
  const rawRate = rawCellOf?.ok ? (rawCellOf.value.points.find((p) => p.batch === window.maxBatch) ?? rawCellOf.value.points.at(-1))!.samplesPerSec : NaN;
  return {
    goals: [
      goal("gpu.large.verdicts_per_s", window.closed.verdictsPerSec, GPU_VERDICTS_GOAL, "higher"),
      goal("gpu.large.service_vs_raw", window.closed.verdictsPerSec / rawRate, SERVICE_VS_RAW_GOAL, "higher"),
    ],
    skipped: [],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const options = parseCheckArgs(process.argv.slice(2));
  const t0 = Date.now();
  const say = (line: string) => process.stdout.write(`[gpu-check ${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${line}\n`);
  const result = await runCheck(options, say);
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote ${options.out}: ${result.goals.map((g) => `${g.id} ${g.value.toFixed(2)} (${g.met ? "met" : "missed"})`).join(", ") || result.skipped.join("; ")}`);
  process.exit(0); // the service window's connections are closed; nothing else should hold the process, but a stuck GPU driver thread must not
}
