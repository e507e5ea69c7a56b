/**
 * (d) What a verdict costs outside onnxruntime, measured in isolation, as its own process:
 * - "bus": the real consumer (src/consumer/index.ts: pull, hold + heartbeat, parse and validate the envelope,
 *   batch, publish the verdict to the reply subject and the verdict stream, ack, log, metrics) over a real
 *   nats-server whose streams `ofa-entail provision` made (overhead.ts), with a stub model whose prepareImage() hands
 *   back a ready tensor and whose inferRows() only assembles the batch feed. Everything this process burns is
 *   bus + protocol + batching work.
 * - "prepare": the model's preprocessing (decode, resize with the chosen resizer, normalise, tokenise) with as many
 *   requests in flight as a worker holds, without a session. Everything this process burns is preprocessing.
 * CPU is process.cpuUsage(): every thread of the process (libuv pool, libvips, GC) counts.
 */
import { connect } from "@nats-io/transport-node";
import { loadConfig } from "../src/config/index.ts";
import { startConsumer, type ConsumerModel } from "../src/consumer/index.ts";
import { PillowResizer, assembleRows, buildPrompt, loadManifest, loadTokenizer, preprocessImage, type AnswerScores, type Manifest, type RowGroup } from "../src/model/index.ts";
import { childMain } from "./children.ts";
import { TEXTS, benchJpegs } from "./fixtures.ts";

export type ProbeSpec =
  | { readonly mode: "bus"; readonly natsUrl: string; readonly modelDir: string; readonly maxBatch: number; readonly verdicts: number; readonly logLevel: string }
  | { readonly mode: "prepare"; readonly modelDir: string; readonly resize: ResizeMode; readonly concurrency: number; readonly durationMs: number };

/** The service's --resize choices: "pillow" (bit-exact port of Pillow's bicubic, in a thread) or "sharp" (libvips). */
export type ResizeMode = "pillow" | "sharp";

export interface ProbeProgress {
  readonly done: number;
  readonly cpuSeconds: number;
}

export interface ProbeResult {
  readonly mode: ProbeSpec["mode"];
  readonly done: number;
  readonly cpuMsPerItem: number;
  readonly wallMsPerItem: number;
  /** prepare only: tokenisation alone, CPU ms per prompt (it runs on the worker's main thread). */
  readonly tokeniseMs?: number;
  readonly imageSize: number;
  readonly resize?: ResizeMode;
}

const PROGRESS_EVERY_MS = 250;
const LIMITS = { maxImagePixels: 40_000_000 };
const TOKENISE_REPS = 2000;

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Stands in for Model: no sharp, no onnxruntime; keeps the main-thread batch assembly the real inferRows() does. */
function stubModel(manifest: Manifest, prepared: { readonly pixels: Float32Array; readonly inputIds: number[] }, onAnswered: (n: number) => void): ConsumerModel {
  const answer: AnswerScores = { label: "yes", scores: { yes: 0.9, no: 0.05, maybe: 0.05 } };
  return {
    info: { name: manifest.name, version: manifest.version, meaningful: manifest.meaningful },
    prepareImage: async () => prepared.pixels, // read-only downstream: assembleRows copies it into the feed
    tokenize: () => prepared.inputIds,
    inferRows: async (groups: readonly RowGroup[]) => {
      assembleRows(groups, manifest);
      const rows = groups.reduce((n, g) => n + g.rows.length, 0);
      onAnswered(rows);
      return { answers: groups.map((g) => g.rows.map(() => answer)), embeds: groups.map(() => undefined), runMs: 0, logits: new Float32Array(0), columns: 0 };
    },
  };
}

async function bus(spec: Extract<ProbeSpec, { mode: "bus" }>, progress: (p: ProbeProgress) => void): Promise<ProbeResult> {
  const dir = await loadManifest(spec.modelDir);
  const tokenizer = await loadTokenizer(dir.dir, dir.manifest);
  const size = dir.manifest.image.size;
  const prepared = { pixels: new Float32Array(3 * size * size), inputIds: tokenizer.encodePrompt(buildPrompt(dir.manifest, TEXTS[0]!)) };
  // The service's own defaults (env ignored), so the probe consumes exactly as a worker would.
  const config = loadConfig({ natsUrl: spec.natsUrl, maxBatch: String(spec.maxBatch), cacheTtlMs: "0", logLevel: spec.logLevel }, {});
  const nc = await connect({ servers: spec.natsUrl, name: "ofa-bench-bus-probe" });
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((r) => (finished = r));
  const model = stubModel(dir.manifest, prepared, (n) => {
    done += n;
    if (done >= spec.verdicts) finished();
  });
  const consumer = await startConsumer(nc, config, model);
  const ticker = setInterval(() => progress({ done, cpuSeconds: cpuNow() }), PROGRESS_EVERY_MS);
  const cpu0 = cpuNow();
  const t0 = performance.now();
  await allDone;
  const cpu = cpuNow() - cpu0;
  const wall = performance.now() - t0;
  clearInterval(ticker);
  progress({ done, cpuSeconds: cpuNow() });
  await consumer.drain(10_000);
  await nc.drain();
  return { mode: "bus", done, cpuMsPerItem: (cpu * 1000) / done, wallMsPerItem: wall / done, imageSize: size };
}

async function prepare(spec: Extract<ProbeSpec, { mode: "prepare" }>, progress: (p: ProbeProgress) => void): Promise<ProbeResult> {
  const dir = await loadManifest(spec.modelDir);
  const tokenizer = await loadTokenizer(dir.dir, dir.manifest);
  const jpegs = await benchJpegs();
  // What Model.prepareImage() and tokenize() do, without opening a session (the OFA-large one would cost 6 GB and a 16 s smoke run).
  const pillow = spec.resize === "pillow" ? new PillowResizer() : undefined;
  const one = async (i: number) => {
    await preprocessImage(jpegs[i % jpegs.length]!, dir.manifest.image, LIMITS, pillow);
    tokenizer.encodePrompt(buildPrompt(dir.manifest, TEXTS[i % TEXTS.length]!));
  };
  for (let i = 0; i < 20; i++) await one(i); // warm up sharp's pipelines and the JIT
  let done = 0;
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const lane = async () => {
    while (performance.now() - t0 < spec.durationMs) await one(done++);
  };
  await Promise.all(Array.from({ length: spec.concurrency }, lane));
  const wall = performance.now() - t0;
  const cpu = cpuNow() - cpu0;
  progress({ done, cpuSeconds: cpuNow() });
  await pillow?.close();
  const tokeniseMs = tokeniseCost(dir.manifest, tokenizer);
  return { mode: "prepare", done, cpuMsPerItem: (cpu * 1000) / done, wallMsPerItem: wall / done, tokeniseMs, imageSize: dir.manifest.image.size, resize: spec.resize };
}

function tokeniseCost(manifest: Manifest, tokenizer: { encodePrompt(p: string): number[] }): number {
  const c0 = cpuNow();
  for (let i = 0; i < TOKENISE_REPS; i++) tokenizer.encodePrompt(buildPrompt(manifest, TEXTS[i % TEXTS.length]!));
  return ((cpuNow() - c0) * 1000) / TOKENISE_REPS;
}

childMain<ProbeSpec, ProbeProgress, ProbeResult>((spec, progress) => (spec.mode === "bus" ? bus(spec, progress) : prepare(spec, progress)));
