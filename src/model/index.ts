/**
 * The model façade: open a model directory, prepare an image and tokenise its hypotheses, run rows that share images
 * (rows.ts: one API for single requests, policy lists and both graph forms), decode.
 * Knows nothing of NATS. Opening includes a smoke inference: a model that loads but cannot answer is refused.
 */
import { ErrorCode, OfaError } from "../protocol/errors.ts";
import type { ModelInfo } from "../protocol/verdict.ts";
import { answerScores, type AnswerScores } from "./answer-scores.ts";
import { loadManifest, type Manifest, type Precision } from "./manifest.ts";
import { preprocessImage, type ImageLimits } from "./preprocess.ts";
import { PillowResizer } from "./resizer.ts";
import { assertExecutionProvider, providerLoadFailure, type ExecutionProvider } from "./providers.ts";
import { buildPrompt } from "./prompt.ts";
import { assembleRows, type ImageEmbeds, type RowGroup } from "./rows.ts";
import { ModelSession } from "./session.ts";
import type { Placement } from "./session-protocol.ts";
import { loadTokenizer, type PromptTokenizer } from "./tokenizer.ts";

export type { AnswerScores } from "./answer-scores.ts";
export type { Manifest } from "./manifest.ts";
export type { Placement } from "./session-protocol.ts";
export type { GroupImage, ImageEmbeds, RowGroup } from "./rows.ts";

// The pipeline's parts, public so that they can be measured apart (bench/: the raw-onnxruntime baseline feeds a bare
// session the rows the service would build, the overhead probes time preprocessing and tokenising without a session,
// the Pillow comparison times decode, resize and normalise one by one, the GPU check asks for the adapter): the very
// code the serving path runs, never a copy of it.
export type { Precision } from "./manifest.ts";
export { loadManifest };
export { loadTokenizer };
export { buildPrompt };
export { assembleRows };
export { preprocessImage };
export { decodeRgb } from "./preprocess.ts";
export { normalise } from "./normalise.ts";
export { PillowResizer };
export { WasmResampler } from "./wasm-resample.ts";
export { probeVulkanAdapter, type AdapterProbe } from "./adapter.ts";

export interface ModelOptions {
  readonly modelDir: string;
  readonly executionProvider: ExecutionProvider;
  readonly precision: Precision;
  readonly intraOpThreads: number;
  readonly limits: ImageLimits;
  /** "pillow": bit-exact with the reference, in the preprocessing pool; "sharp": faster, approximate. */
  readonly resize: "pillow" | "sharp";
  /** Threads of the resize + normalise pool (pillow only); default 1. */
  readonly preprocessThreads?: number;
}

/**
 * The int8 graph answers with slightly different scores than the fp32 one it was made from, so its verdicts carry
 * their own version: the verdict cache (keyed by version) then never hands an fp32 answer to an int8 service or back.
 */
function infoFor(info: ModelInfo, precision: Precision): ModelInfo {
  return precision === "int8" ? Object.freeze({ ...info, version: `${info.version}-int8` }) : info;
}

export interface RowsResult {
  /** Per group, one answer per row, in order. */
  readonly answers: readonly (readonly AnswerScores[])[];
  /** Per group: the image's embeddings when this run encoded it (split form), for the group's later rows. */
  readonly embeds: readonly (ImageEmbeds | undefined)[];
  readonly runMs: number;
  /** The raw answer logits, one row of `columns` per row of the run, groups in order (bench/agreement.ts). */
  readonly logits: Float32Array;
  readonly columns: number;
}

export class Model {
  readonly info: ModelInfo;
  readonly manifest: Manifest;
  private readonly tokenizer: PromptTokenizer;
  private readonly session: ModelSession;
  private readonly limits: ImageLimits;
  private readonly pillow: PillowResizer | undefined;
  /** Where a GPU provider placed the graph's nodes (profiled on the smoke run); undefined on the CPU provider. */
  placement: Placement | undefined;
  private constructor(
    info: ModelInfo,
    manifest: Manifest,
    tokenizer: PromptTokenizer,
    session: ModelSession,
    limits: ImageLimits,
    pillow: PillowResizer | undefined,
  ) {
    this.info = info;
    this.manifest = manifest;
    this.tokenizer = tokenizer;
    this.session = session;
    this.limits = limits;
    this.pillow = pillow;
  }

  static async open(options: ModelOptions): Promise<Model> {
    assertExecutionProvider(options.executionProvider);
    const dir = await loadManifest(options.modelDir);
    const tokenizer = await loadTokenizer(dir.dir, dir.manifest);
    const graphs = dir.graphs(options.precision, options.executionProvider);
    const session = await ModelSession.open({
      onnxPath: graphs.form === "one" ? graphs.model : graphs.textFusion,
      ...(graphs.form === "split"
        ? { split: { imageEncoderPath: graphs.imageEncoder, textFusionPath: graphs.textFusion, imageEmbeds: graphs.imageEmbeds, ...(graphs.imageRows ? { imageRows: graphs.imageRows } : {}) } }
        : {}),
      executionProvider: options.executionProvider,
      intraOpThreads: options.intraOpThreads,
      inputNames: dir.manifest.inputs,
      outputName: dir.manifest.output,
    }).catch((err: unknown) => {
      throw providerLoadFailure(options.executionProvider, err instanceof Error ? err.message : String(err)) ?? err;
    });
    const pillow = options.resize === "pillow" ? new PillowResizer(options.preprocessThreads ?? 1) : undefined;
    const model = new Model(infoFor(dir.info, options.precision), dir.manifest, tokenizer, session, options.limits, pillow);
    try {
      await model.smokeTest();
      model.placement = await session.placement();
    } catch (err) {
      await model.close();
      throw err;
    }
    return model;
  }

  /** Decode + resize + normalise an image once, for any number of hypotheses about it. Throws VerdictError on bad input. */
  prepareImage(image: Uint8Array): Promise<Float32Array> {
    return preprocessImage(image, this.manifest.image, this.limits, this.pillow);
  }

  /** The prompt token ids of one hypothesis (and optional premise). */
  tokenize(text: string, premise?: string): number[] {
    return this.tokenizer.encodePrompt(buildPrompt(this.manifest, text, premise));
  }

  /** One run for rows that share images: each new image is encoded once (split form), whatever its row count. */
  async inferRows(groups: readonly RowGroup[]): Promise<RowsResult> {
    const result = await this.session.run(assembleRows(groups, this.manifest));
    const { columns, logits } = result;
    let row = 0;
    const answers = groups.map((g) => g.rows.map(() => answerScores(logits.subarray(row * columns, ++row * columns), this.manifest.answers)));
    let fresh = 0;
    const embeds = groups.map((g): ImageEmbeds | undefined => {
      if (!("pixels" in g.image) || !result.embeds) return undefined;
      const { data, tokens, dim } = result.embeds;
      const size = tokens * dim;
      return { data: data.subarray(fresh * size, ++fresh * size), tokens, dim };
    });
    return { answers, embeds, runMs: result.runMs, logits, columns };
  }

  /** Runs a grey image through the whole path; refuses a model whose answers are not finite. */
  private async smokeTest(): Promise<void> {
    const size = this.manifest.image.size;
    const pixels = new Float32Array(3 * size * size);
    const inputIds = this.tokenizer.encodePrompt(buildPrompt(this.manifest, "there is a dog."));
    const { answers } = await this.inferRows([{ image: { pixels }, rows: [inputIds] }]);
    const scores = Object.values(answers[0]![0]!.scores);
    if (!scores.every(Number.isFinite)) {
      throw new OfaError(ErrorCode.MODEL_RUN, `model ${this.info.name} failed its smoke inference (non-finite scores)`);
    }
  }

  async close(): Promise<void> {
    await this.pillow?.close();
    await this.session.close();
  }
}
