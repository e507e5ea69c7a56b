/**
 * `npm run agreement -- --model-dir DIR [--samples FILE.jsonl] [--count 64] [--candidate int8] [--threads N] [--json]`
 * Runs every sample through the reference variant (fp32) and then the candidate (int8) of one model directory with
 * the service's own preprocessing and onnxruntime-node, and prints max / mean |Δ| of the yes/no/maybe scores and the
 * share of equal labels (and each variant's accuracy when the samples carry labels). Exit status 0; 2 on bad usage;
 * 1 when a model or sample cannot be read or run. A sample file is JSON lines: {"image": "path relative to the file",
 * "text": "…", "premise"?: "…", "label"?: "yes|no|maybe"}.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { fixedSamples, loadSampleFile, measureAgreement, type AgreementReport } from "../bench/agreement.ts";
import type { Precision } from "../src/model/manifest.ts";

const PRECISIONS: readonly Precision[] = ["fp32", "fp16", "int8"];

class UsageError extends Error {}

function precision(value: string, flag: string): Precision {
  if (!(PRECISIONS as readonly string[]).includes(value)) throw new UsageError(`--${flag} must be one of ${PRECISIONS.join(", ")}`);
  return value as Precision;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer`);
  return n;
}

function render(r: AgreementReport): string {
  const lines = [
    `${r.candidate} vs ${r.reference} on ${r.samples} samples (${r.modelDir})`,
    `  max |Δscore| ${r.maxAbsDelta.toExponential(2)}   mean |Δscore| ${r.meanAbsDelta.toExponential(2)}`,
    `  equal labels ${r.equalLabels}/${r.samples} (${(r.labelAgreement * 100).toFixed(1)} %); ${r.reference} labels ${JSON.stringify(r.referenceLabels)}`,
    `  max |Δlogit| ${r.maxAbsLogitDelta.toExponential(2)}   mean |Δlogit| ${r.meanAbsLogitDelta.toExponential(2)}   (logits up to ${r.maxAbsLogit.toFixed(1)})`,
  ];
  if (r.accuracy) lines.push(`  accuracy on the labelled sample: ${r.reference} ${(r.accuracy.reference * 100).toFixed(1)} %, ${r.candidate} ${(r.accuracy.candidate * 100).toFixed(1)} %`);
  return lines.join("\n");
}

async function main(): Promise<number> {
  try {
    const args = parseArgs({
      options: {
        "model-dir": { type: "string" },
        samples: { type: "string" },
        count: { type: "string", default: "64" },
        reference: { type: "string", default: "fp32" },
        candidate: { type: "string", default: "int8" },
        threads: { type: "string", default: String(availableParallelism()) },
        batch: { type: "string", default: "4" },
        json: { type: "boolean", default: false },
      },
    }).values;
    if (!args["model-dir"]) throw new UsageError("--model-dir is required");
    const options = {
      modelDir: args["model-dir"],
      reference: precision(args.reference!, "reference"),
      candidate: precision(args.candidate!, "candidate"),
      intraOpThreads: positive(args.threads!, "threads"),
      batch: positive(args.batch!, "batch"),
    };
    const samples = args.samples ? await loadSampleFile(args.samples) : await fixedSamples(positive(args.count!, "count"));
    const report = await measureAgreement(options, samples);
    process.stdout.write(`${args.json ? JSON.stringify(report) : render(report)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`agreement: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  }
}

process.exitCode = await main();
