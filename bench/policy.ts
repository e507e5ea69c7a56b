/**
 * Policy lists (issue 16): throughput of one request carrying 8 hypotheses about an image against 8 single requests
 * for the same image, in the same run on the same service (a split model directory, so the list's image is decoded
 * and encoded once while each single request decodes and encodes its own copy). OFA_MAX_BATCH 8: the 8 singles form
 * one batch of 8 rows, the list is one batch of 8 rows — the difference is the repeated image work alone.
 * The two shapes alternate round by round, after one warm-up of each, so drift in the machine's load hits both.
 * Goal `policy.speedup_8` ≥ 1.2 (the image stem is ≈ 23 % of OFA-large's encoder work at 480²).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { OfaClient } from "@ofa-entail/client/source";
import { NatsServer } from "../test/harness/nats-server.ts";
import { benchJpegs } from "./fixtures.ts";
import { goal, type Goal } from "./goals.ts";
import { largeModelDir } from "./plan.ts";
import { cpuSeconds } from "./proc.ts";
import { ServiceUnderTest, histogramTotals } from "./service.ts";
import { mean, median } from "./stats.ts";

const POLICY_HYPOTHESES: readonly string[] = Object.freeze([
  "there is a weapon in the picture.",
  "a person is injured.",
  "the product in the photo is a shoe.",
  "the photo shows a crowd of people.",
  "there is text written on a sign.",
  "an animal is visible.",
  "the scene is at night.",
  "someone is holding a phone.",
]);

const POLICY_GOAL = 1.2;
/** Timed rounds in a full run: each pair is ≈ 20 s on the OFA-large shape; 7 so that the median outlasts two pairs hit by a burst of neighbour load. */
export const POLICY_ROUNDS = 7;

export interface PolicyResults {
  readonly modelDir: string;
  readonly hypotheses: number;
  readonly rounds: number;
  /** Wall time of each timed round, ms: 8 single requests / one list of 8. */
  readonly singlesMs: readonly number[];
  readonly listMs: readonly number[];
  /** Hypotheses answered per second, from the mean round time. */
  readonly singlesPerSec: number;
  readonly listPerSec: number;
  /** Ratio of the mean throughputs. */
  readonly meanSpeedup: number;
  /**
   * policy.speedup_8: the median over rounds of (singles time / list time). The two shapes of a round run back to
   * back, so a burst of load from the neighbours hits one pair, and the median drops that pair.
   */
  readonly speedup: number;
  /** Mean rows per session run while the singles ran: 8 means they were batched as one, as the list is. */
  readonly singlesMeanBatch: number;
  /**
   * Worker CPU seconds (all its threads, from /proc) per round. Neighbours on a shared host stretch wall time far
   * more than the CPU time a round needs, so singles CPU ÷ list CPU shows the work saved even when wall time is noisy.
   */
  readonly singlesCpuS: readonly number[];
  readonly listCpuS: readonly number[];
  readonly cpuSpeedup: number;
}

/** The split OFA-large-shaped model the policy section runs on (BENCH_POLICY_MODEL_DIR overrides). */
export function policyModelDir(): string {
  return process.env.BENCH_POLICY_MODEL_DIR ?? `${largeModelDir()}-split`;
}

/** Why the policy section cannot run, or undefined when it can. */
export function policyUnavailable(dir: string): string | undefined {
  if (existsSync(join(dir, "manifest.json"))) return undefined;
  return `split OFA-large-shaped model not found at ${dir}: the policy-list section (policy.speedup_8) is skipped. Export it once with \`bash scripts/model-large.sh --split\` (≈ 4 min, ≈ 1.9 GB), then run \`npm run bench\` again.`;
}

export async function runPolicy(modelDir: string, rounds: number, logDir: string, say: (line: string) => void): Promise<PolicyResults> {
  const nats = await NatsServer.start();
  const service = await ServiceUnderTest.start({
    natsUrl: nats.url,
    env: { OFA_MODEL_DIR: modelDir, OFA_WORKERS: "1", OFA_MAX_BATCH: String(POLICY_HYPOTHESES.length), OFA_MAX_BATCH_DELAY_MS: "50" },
    logFile: join(logDir, "policy.service.log"),
  });
  const nc = await connect({ servers: nats.url });
  const client = new OfaClient(nc);
  try {
    await service.waitReady(600_000);
    // A 480² photo-sized JPEG: what the moderation pipelines send; the service resizes it to the model's size.
    const [image] = await benchJpegs(1, 480);
    const opts = { image: image!, timeoutMs: 1_800_000, deadline: false as const };
    const batches = { sum: 0, count: 0 };
    const [workerPid] = await service.workerPids();
    const cpu = { singles: [] as number[], list: [] as number[] };
    const timed = async (shape: "singles" | "list", run: () => Promise<number>) => {
      const before = cpuSeconds(workerPid ?? -1) ?? 0;
      const ms = await run();
      cpu[shape].push((cpuSeconds(workerPid ?? -1) ?? 0) - before);
      return ms;
    };
    const singles = async () => {
      const before = histogramTotals(await service.metricsText(), "ofa_batch_size");
      const t0 = performance.now();
      await Promise.all(POLICY_HYPOTHESES.map((text) => client.classify({ ...opts, text })));
      const ms = performance.now() - t0;
      const after = histogramTotals(await service.metricsText(), "ofa_batch_size");
      batches.sum += after.sum - before.sum;
      batches.count += after.count - before.count;
      return ms;
    };
    const list = async () => {
      const t0 = performance.now();
      const v = await client.classifyMany({ ...opts, hypotheses: POLICY_HYPOTHESES });
      if (v.results.length !== POLICY_HYPOTHESES.length) throw new Error(`the list verdict has ${v.results.length} results`);
      return performance.now() - t0;
    };
    say(`(policy) warm-up: 8 single requests, then one list of 8, on ${modelDir}`);
    await singles();
    await list();
    batches.sum = batches.count = 0;
    const timedSingles = () => timed("singles", singles);
    const timedList = () => timed("list", list);
    const singlesMs: number[] = [];
    const listMs: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      // Alternate which shape goes first, so neither always follows the other.
      if (r % 2 === 1) {
        singlesMs.push(await timedSingles());
        listMs.push(await timedList());
      } else {
        listMs.push(await timedList());
        singlesMs.push(await timedSingles());
      }
      say(`(policy) round ${r}/${rounds}: 8 singles ${(singlesMs.at(-1)! / 1000).toFixed(2)} s, list of 8 ${(listMs.at(-1)! / 1000).toFixed(2)} s`);
    }
    const n = POLICY_HYPOTHESES.length;
    const singlesPerSec = (n * 1000) / mean(singlesMs);
    const listPerSec = (n * 1000) / mean(listMs);
    const singlesMeanBatch = batches.count ? batches.sum / batches.count : 0;
    const speedup = median(singlesMs.map((ms, i) => ms / listMs[i]!));
    const cpuSpeedup = mean(cpu.singles) / mean(cpu.list);
    return { modelDir, hypotheses: n, rounds, singlesMs, listMs, singlesPerSec, listPerSec, meanSpeedup: listPerSec / singlesPerSec, speedup, singlesMeanBatch, singlesCpuS: cpu.singles, listCpuS: cpu.list, cpuSpeedup };
  } finally {
    client.close();
    await nc.close();
    await service.stop();
    await nats.stop();
  }
}

/** The section's goal; none when the section did not run (a missing model is a note, not a missed goal). */
export function policyGoals(policy: PolicyResults | undefined): Goal[] {
  return policy ? [goal("policy.speedup_8", Number(policy.speedup.toFixed(3)), POLICY_GOAL, "higher")] : [];
}

export function policyMarkdown(policy: PolicyResults | undefined): string {
  if (!policy) return "## Policy lists\n\nnot measured (see the notes).\n";
  const f = (v: number) => v.toFixed(2);
  return [
    "## Policy lists (issue 16)",
    "",
    `One image, ${policy.hypotheses} hypotheses: one list request vs ${policy.hypotheses} single requests, same service (${policy.modelDir}, max batch ${policy.hypotheses}), ${policy.rounds} alternating rounds after a warm-up of each.`,
    "",
    "| shape | mean round s | hypotheses/s | worker CPU s per round |",
    "| --- | --- | --- | --- |",
    `| ${policy.hypotheses} single requests (mean batch ${f(policy.singlesMeanBatch)} rows) | ${f(mean(policy.singlesMs) / 1000)} | ${f(policy.singlesPerSec)} | ${f(mean(policy.singlesCpuS))} |`,
    `| one list of ${policy.hypotheses} | ${f(mean(policy.listMs) / 1000)} | ${f(policy.listPerSec)} | ${f(mean(policy.listCpuS))} |`,
    "",
    `policy.speedup_8 = **${f(policy.speedup)}×**, the median of the rounds' ratios (${policy.singlesMs.map((ms, i) => f(ms / policy.listMs[i]!)).join(", ")}; ratio of the means ${f(policy.meanSpeedup)}); goal ≥ ${POLICY_GOAL}: ${policy.speedup >= POLICY_GOAL ? "met" : "NOT met"}. Worker CPU per round, singles ÷ list: ${f(policy.cpuSpeedup)}×.`,
    "",
  ].join("\n");
}
