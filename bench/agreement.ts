/**
 * How closely one ONNX variant of a model directory answers like another (int8 vs fp32 by default), through the
 * service's own path: src/model's preprocessing (Pillow-exact resize), prompt, tokenizer, session and decode. On
 * random weights accuracy cannot be measured, only agreement: max and mean |Δ| of the yes/no/maybe scores and the
 * share of equal labels over a fixed input set. With the real checkpoint, run it on your own labelled sample
 * (scripts/agreement.ts --samples) before serving int8: agreement with fp32 is necessary, not sufficient.
 * Used by scripts/agreement.ts, bench/int8.ts and test/parity/int8.test.ts.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Model, type AnswerScores, type Precision } from "../src/model/index.ts";
import { benchJpegs, TEXTS } from "./fixtures.ts";

export interface AgreementSample {
  readonly image: Uint8Array;
  readonly text: string;
  readonly premise?: string;
  /** Expected label, when the sample is labelled (the user's own sample): accuracy is then reported too. */
  readonly label?: string;
}

export interface AgreementOptions {
  readonly modelDir: string;
  readonly reference: Precision;
  readonly candidate: Precision;
  readonly intraOpThreads: number;
  readonly batch: number;
}

/** One sample's answer: the decoded scores and label, and the raw answer logits behind them. */
export interface Answered extends AnswerScores {
  readonly logits: readonly number[];
}

export interface AgreementReport {
  readonly modelDir: string;
  readonly reference: Precision;
  readonly candidate: Precision;
  readonly samples: number;
  /** Over every (sample, answer) pair: |score_candidate − score_reference|. */
  readonly maxAbsDelta: number;
  readonly meanAbsDelta: number;
  readonly equalLabels: number;
  /** equalLabels / samples. */
  readonly labelAgreement: number;
  /** Over every (sample, answer) pair: |logit_candidate − logit_reference|, and the largest |logit_reference|. */
  readonly maxAbsLogitDelta: number;
  readonly meanAbsLogitDelta: number;
  readonly maxAbsLogit: number;
  /** How often the reference gave each label: agreement over inputs that all get one label says little. */
  readonly referenceLabels: Readonly<Record<string, number>>;
  /** Only for labelled samples: the share each variant gets right. */
  readonly accuracy?: { readonly reference: number; readonly candidate: number };
}

const EXTRA_TEXTS = [
  "nobody is outside.",
  "the picture shows an animal.",
  "a woman is cooking dinner for her family.",
  "it is raining heavily.",
];
const PREMISES = ["a sunny afternoon in a city park.", "an empty room with white walls."];

/** The fixed input set: `count` (image, text) pairs over 16 photo-like JPEGs, 8 hypotheses, every 4th with a premise. */
export async function fixedSamples(count = 64): Promise<AgreementSample[]> {
  const images = await benchJpegs(16);
  const texts = [...TEXTS, ...EXTRA_TEXTS];
  return Array.from({ length: count }, (_, i) => ({
    image: images[i % images.length]!,
    text: texts[(i * 3 + Math.floor(i / images.length)) % texts.length]!,
    ...(i % 4 === 3 ? { premise: PREMISES[(i >> 2) % PREMISES.length]! } : {}),
  }));
}

/** A JSON-lines sample file: {"image": "path (relative to the file)", "text": "…", "premise"?: "…", "label"?: "yes|no|maybe"}. */
export async function loadSampleFile(path: string): Promise<AgreementSample[]> {
  const lines = (await readFile(path, "utf8")).split("\n").filter((l) => l.trim() !== "");
  const samples: AgreementSample[] = [];
  for (const [n, line] of lines.entries()) {
    const row = JSON.parse(line) as { image?: unknown; text?: unknown; premise?: unknown; label?: unknown };
    if (typeof row.image !== "string" || typeof row.text !== "string") throw new Error(`${path}:${n + 1}: needs "image" and "text" strings`);
    samples.push({
      image: await readFile(resolve(dirname(path), row.image)),
      text: row.text,
      ...(typeof row.premise === "string" ? { premise: row.premise } : {}),
      ...(typeof row.label === "string" ? { label: row.label } : {}),
    });
  }
  return samples;
}

/** Scores of every sample under one precision; the session is closed before returning (one big model at a time). */
export async function scoresOf(modelDir: string, precision: Precision, samples: readonly AgreementSample[], threads: number, batch: number): Promise<Answered[]> {
  const model = await Model.open({
    modelDir,
    executionProvider: "cpu",
    precision,
    intraOpThreads: threads,
    limits: { maxImagePixels: 40_000_000 },
    resize: "pillow",
  });
  try {
    const out: Answered[] = [];
    for (let i = 0; i < samples.length; i += batch) {
      const chunk = samples.slice(i, i + batch);
      // The serving path: each sample is a group of one row (its own image), as a worker runs single requests.
      const groups = await Promise.all(chunk.map(async (s) => ({ image: { pixels: await model.prepareImage(s.image) }, rows: [model.tokenize(s.text, s.premise)] })));
      const result = await model.inferRows(groups);
      result.answers.forEach(([a], row) => out.push({ ...a!, logits: Array.from(result.logits.subarray(row * result.columns, (row + 1) * result.columns)) }));
    }
    return out;
  } finally {
    await model.close();
  }
}

/** Compares two score lists of the same samples. */
export function compareScores(reference: readonly Answered[], candidate: readonly Answered[], labels?: readonly (string | undefined)[]) {
  if (reference.length !== candidate.length || reference.length === 0) throw new Error(`cannot compare ${reference.length} with ${candidate.length} answers`);
  let max = 0;
  let sum = 0;
  let equal = 0;
  let maxLogit = 0;
  let logitDelta = 0;
  let logitSum = 0;
  const referenceLabels: Record<string, number> = {};
  reference.forEach((r, i) => {
    const c = candidate[i]!;
    referenceLabels[r.label] = (referenceLabels[r.label] ?? 0) + 1;
    r.logits.forEach((v, k) => {
      const d = Math.abs(c.logits[k]! - v);
      logitDelta = Math.max(logitDelta, d);
      logitSum += d;
      maxLogit = Math.max(maxLogit, Math.abs(v));
    });
    for (const key of ["yes", "no", "maybe"] as const) {
      const d = Math.abs(c.scores[key] - r.scores[key]);
      max = Math.max(max, d);
      sum += d;
    }
    if (c.label === r.label) equal++;
  });
  const known = labels?.map((l, i) => ({ l, i })).filter((x): x is { l: string; i: number } => x.l !== undefined) ?? [];
  const share = (answers: readonly AnswerScores[]) => known.filter(({ l, i }) => answers[i]!.label === l).length / known.length;
  return {
    samples: reference.length,
    maxAbsDelta: max,
    meanAbsDelta: sum / (reference.length * 3),
    equalLabels: equal,
    labelAgreement: equal / reference.length,
    maxAbsLogitDelta: logitDelta,
    meanAbsLogitDelta: logitSum / (reference.length * 3),
    maxAbsLogit: maxLogit,
    referenceLabels,
    ...(known.length > 0 ? { accuracy: { reference: share(reference), candidate: share(candidate) } } : {}),
  };
}

export async function measureAgreement(options: AgreementOptions, samples: readonly AgreementSample[]): Promise<AgreementReport> {
  const ref = await scoresOf(options.modelDir, options.reference, samples, options.intraOpThreads, options.batch);
  const cand = await scoresOf(options.modelDir, options.candidate, samples, options.intraOpThreads, options.batch);
  return {
    modelDir: options.modelDir,
    reference: options.reference,
    candidate: options.candidate,
    ...compareScores(ref, cand, samples.map((s) => s.label)),
  };
}
