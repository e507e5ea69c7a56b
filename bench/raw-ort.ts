/**
 * (a) The baseline: onnxruntime-node used directly, `session.run` in a loop on tensors prepared once — no service,
 * no worker thread, no bus. Same session options as the service's session thread (src/model/session-thread.ts):
 * the ratio b/a then isolates what the service adds. Runs as its own process (see children.ts). The GPU check
 * (bench/gpu/check.ts) runs it on the webgpu provider too, on the model's webgpu graph form.
 */
import ort from "onnxruntime-node";
import { assembleRows, buildPrompt, loadManifest, loadTokenizer, preprocessImage, type Manifest, type Precision, type RowGroup } from "../src/model/index.ts";
import { childMain } from "./children.ts";
import { TEXTS, benchJpegs } from "./fixtures.ts";
import { memory } from "./proc.ts";
import { median } from "./stats.ts";

export interface RawSpec {
  readonly modelDir: string;
  readonly intraOpThreads: number;
  readonly batches: readonly number[];
  /** Untimed runs per batch size first: the first run at a new shape grows onnxruntime's arena. */
  readonly warmupRuns: number;
  readonly minRuns: number;
  /** Keep running (after minRuns) until this much time has passed; 0 = exactly minRuns. */
  readonly minSeconds: number;
  /** Which ONNX file of the directory (bench/int8.ts); fp32 when absent. */
  readonly precision?: Precision;
  /** cpu when absent; webgpu loads the directory's webgpu graph form (models/README.md §1.1b). */
  readonly executionProvider?: "cpu" | "webgpu";
}

export interface RawPoint {
  readonly batch: number;
  readonly runs: number;
  readonly meanRunMs: number;
  /** Robust to a neighbour's burst on a shared host, which lands on a few runs only. */
  readonly medianRunMs: number;
  readonly minRunMs: number;
  readonly maxRunMs: number;
  readonly samplesPerSec: number;
  /** Process CPU (every onnxruntime thread, spinning included) per sample. */
  readonly cpuMsPerSample: number;
  /** Every run's time when there are few (OFA-large), so runs from several rounds can be pooled exactly. */
  readonly runsMs?: readonly number[];
}

/** Runs kept one by one up to this count; the tiny model's thousands are summarised. */
const KEEP_RUNS = 100;

export interface RawResult {
  readonly model: string;
  readonly intraOpThreads: number;
  readonly loadMs: number;
  readonly peakRssBytes: number;
  readonly points: readonly RawPoint[];
}

export type RawProgress = RawPoint;

/** Single requests: one group (its own image) of one row each. */
async function prepareItems(manifest: Manifest, dir: string, count: number): Promise<RowGroup[]> {
  const tokenizer = await loadTokenizer(dir, manifest);
  const jpegs = await benchJpegs();
  const items: RowGroup[] = [];
  for (let i = 0; i < count; i++) {
    const pixels = await preprocessImage(jpegs[i % jpegs.length]!, manifest.image, { maxImagePixels: 40_000_000 });
    items.push({ image: { pixels }, rows: [tokenizer.encodePrompt(buildPrompt(manifest, TEXTS[i % TEXTS.length]!))] });
  }
  return items;
}

/** The one-graph feed; with one image per row the row feed's images are the [B,3,S,S] batch. */
function feedFor(items: readonly RowGroup[], manifest: Manifest): Record<string, ort.Tensor> {
  const f = assembleRows(items, manifest);
  const names = manifest.inputs;
  return {
    [names.inputIds]: new ort.Tensor("int64", f.inputIds, [f.rows, f.textLength]),
    [names.patchImages]: new ort.Tensor("float32", f.images, [f.rows, 3, f.imageSize, f.imageSize]),
    [names.decoderInputIds]: new ort.Tensor("int64", f.decoderIds, [f.rows, f.decoderLength]),
  };
}

async function measure(session: ort.InferenceSession, feed: Record<string, ort.Tensor>, batch: number, spec: RawSpec): Promise<RawPoint> {
  for (let i = 0; i < spec.warmupRuns; i++) await session.run(feed);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  while (times.length < spec.minRuns || performance.now() - started < spec.minSeconds * 1000) {
    const t = performance.now();
    await session.run(feed);
    times.push(performance.now() - t);
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const samples = batch * times.length;
  return {
    batch,
    runs: times.length,
    meanRunMs: times.reduce((a, b) => a + b, 0) / times.length,
    medianRunMs: median(times),
    minRunMs: Math.min(...times),
    maxRunMs: Math.max(...times),
    samplesPerSec: (samples * 1000) / wallMs,
    cpuMsPerSample: (cpu.user + cpu.system) / 1000 / samples,
    ...(times.length <= KEEP_RUNS ? { runsMs: times } : {}),
  };
}

async function main(spec: RawSpec, progress: (p: RawProgress) => void): Promise<RawResult> {
  const dir = await loadManifest(spec.modelDir);
  const items = await prepareItems(dir.manifest, dir.dir, Math.max(...spec.batches));
  const t0 = performance.now();
  const provider = spec.executionProvider ?? "cpu";
  const graph = provider === "cpu" ? { form: "one" as const, model: dir.onnxPath(spec.precision ?? "fp32") } : dir.graphs(spec.precision ?? "fp32", provider);
  if (graph.form !== "one") throw new Error(`${spec.modelDir} has the split form only; the raw loop runs the one graph`);
  const session = await ort.InferenceSession.create(graph.model, {
    executionProviders: [provider],
    intraOpNumThreads: spec.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  });
  const loadMs = performance.now() - t0;
  const points: RawPoint[] = [];
  for (const batch of spec.batches) {
    const point = await measure(session, feedFor(items.slice(0, batch), dir.manifest), batch, spec);
    points.push(point);
    progress(point);
  }
  await session.release();
  return { model: dir.manifest.name, intraOpThreads: spec.intraOpThreads, loadMs, peakRssBytes: memory(process.pid)?.peakRssBytes ?? 0, points };
}

childMain(main);
