/**
 * Raw onnxruntime on one execution provider: `session.run` in a loop on tensors made once, at each batch size, for
 * the GPU check (bench/gpu/check.ts). A child process per cell: a GPU session's memory goes with it, and a provider
 * that aborts the process (Dawn does on some driver faults) loses one cell, not the check.
 *   node bench/gpu/raw.ts '<RawCell JSON>'   → one JSON line (RawCellResult) on stdout
 */
import ort from "onnxruntime-node";

export interface RawCell {
  readonly path: string;
  readonly provider: "cpu" | "webgpu";
  readonly batches: readonly number[];
  readonly imageSize: number;
  /** CPU provider threads (the GPU providers use one). */
  readonly threads: number;
  /** Timed runs per batch size, after one untimed run (the first run at a shape compiles its shaders). */
  readonly runs: number;
  /** Stop timing a batch size after this long, however many runs it had. */
  readonly secondsPerBatch: number;
}

export interface RawPoint {
  readonly batch: number;
  readonly firstRunMs: number;
  readonly runs: number;
  readonly medianRunMs: number;
  readonly minRunMs: number;
  readonly maxRunMs: number;
  readonly rowsPerSec: number;
}

export interface RawCellResult {
  readonly provider: string;
  readonly path: string;
  readonly createMs: number;
  readonly points: readonly RawPoint[];
}

/** A prompt of 24 tokens, the length of a typical VE prompt with a short hypothesis (bos … eos); ids under 405 fit the tiny model's vocabulary too. */
const TEXT_LENGTH = 24;

function feeds(batch: number, imageSize: number): Record<string, ort.Tensor> {
  const ids = BigInt64Array.from({ length: batch * TEXT_LENGTH }, (_, i) => (i % TEXT_LENGTH === 0 ? 0n : i % TEXT_LENGTH === TEXT_LENGTH - 1 ? 2n : BigInt(5 + ((i * 31) % 400))));
  return {
    input_ids: new ort.Tensor("int64", ids, [batch, TEXT_LENGTH]),
    patch_images: new ort.Tensor("float32", Float32Array.from({ length: batch * 3 * imageSize * imageSize }, (_, i) => Math.sin(i * 0.01)), [batch, 3, imageSize, imageSize]),
    decoder_input_ids: new ort.Tensor("int64", new BigInt64Array(batch), [batch, 1]),
  };
}

export async function timeCell(cell: RawCell): Promise<RawCellResult> {
  let started = performance.now();
  const session = await ort.InferenceSession.create(cell.path, {
    executionProviders: [cell.provider],
    intraOpNumThreads: cell.provider === "cpu" ? cell.threads : 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
  });
  const createMs = performance.now() - started;
  const points: RawPoint[] = [];
  for (const batch of cell.batches) {
    const input = feeds(batch, cell.imageSize);
    started = performance.now();
    await session.run(input);
    const firstRunMs = performance.now() - started;
    const times: number[] = [];
    const until = performance.now() + cell.secondsPerBatch * 1000;
    while (times.length < cell.runs && (times.length === 0 || performance.now() < until)) {
      started = performance.now();
      await session.run(input);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    points.push({ batch, firstRunMs, runs: times.length, medianRunMs: median, minRunMs: times[0]!, maxRunMs: times.at(-1)!, rowsPerSec: (batch * 1000) / median });
  }
  await session.release();
  return { provider: cell.provider, path: cell.path, createMs, points };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await timeCell(JSON.parse(process.argv[2]!) as RawCell);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
