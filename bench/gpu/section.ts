/**
 * `npm run bench`'s `gpu` section: the GPU check (check.ts) on this host when it has a real GPU adapter; skipped with
 * the reason where the only adapter is lavapipe (a Vulkan device on the CPU: its speed says nothing of a GPU's) or
 * there is none. The OFA-large-shaped model is used when the bench has one (it must have the webgpu form).
 */
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeVulkanAdapter } from "../../src/model/index.ts";
import type { Goal } from "../goals.ts";
import { runCheck, type CheckResult } from "./check.ts";

export interface GpuSection {
  readonly result: CheckResult | undefined;
  readonly skipped: string | undefined;
  readonly goals: readonly Goal[];
}

export async function gpuSection(quick: boolean, largeDir: string | undefined, say: (line: string) => void): Promise<GpuSection> {
  const probe = await probeVulkanAdapter();
  const skipped = !probe.found
    ? `gpu section skipped: no Vulkan adapter (${probe.reason})`
    : probe.adapter.software
      ? `gpu section skipped: the only Vulkan adapter is ${probe.adapter.description}, lavapipe (a Vulkan device on the CPU): it proves the webgpu path (the tests run it), its speed is not a GPU's. Run scripts/gpu-check.sh on a GPU host (README "GPU").`
      : undefined;
  if (skipped) {
    say(skipped);
    return { result: undefined, skipped, goals: [] };
  }
  // The bench's large model has the webgpu form only when made with `npm run model:large -- --webgpu`; else the
  // check exports its own.
  const withWebgpu = largeDir && !quick && existsSync(join(largeDir, "manifest.json")) && "webgpu" in (JSON.parse(readFileSync(join(largeDir, "manifest.json"), "utf8")) as object);
  const result = await runCheck({ dryRun: quick, modelDir: withWebgpu ? largeDir : undefined, out: join(tmpdir(), "gpu-check.json"), minutes: quick ? 4 : 9, windowS: quick ? 6 : 60 }, say);
  return { result, skipped: undefined, goals: result.goals };
}

/** The section's Markdown: raw onnxruntime per provider and precision, the service window, or why it was skipped. */
export function renderGpu(section: GpuSection | undefined): string {
  if (!section) return "";
  if (section.skipped || !section.result) return ["## GPU (webgpu)", "", section.skipped ?? "not run", ""].join("\n");
  const r = section.result;
  const rows = r.raw.flatMap((c) =>
    c.ok ? c.value.points.map((p) => `| ${c.value.provider} ${c.value.precision} | ${p.batch} | ${p.medianRunMs.toFixed(1)} | ${p.samplesPerSec.toFixed(1)} | ${p.runs} |`) : [`| ${c.reason} | | | | |`],
  );
  const s = r.service;
  const service = s?.ok
    ? `Service on webgpu (${s.value.precision}, max batch ${s.value.maxBatch}): ${s.value.closed.verdictsPerSec.toFixed(1)} verdicts/s with ${s.value.closed.users} users for ${s.value.closed.seconds.toFixed(0)} s; at half that load p50 ${s.value.halfLoad.p50Ms.toFixed(0)} ms, p95 ${s.value.halfLoad.p95Ms.toFixed(0)} ms.`
    : `Service window: ${s?.reason ?? "not run"}.`;
  const adapter = r.adapter.found ? `${r.adapter.adapter.description} (${r.adapter.adapter.driver})` : r.adapter.reason;
  return ["## GPU (webgpu)", "", `Adapter: ${adapter}.`, "", "| provider, precision | batch | median ms/run | rows/s | runs |", "|---|---|---|---|---|", ...rows, "", service, ...r.skipped.map((x) => `Skipped: ${x}`), ""].join("\n");
}
