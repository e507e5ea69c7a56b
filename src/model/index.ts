/**
 * The model façade: open a model directory, turn (image, text, premise) into prepared inputs, run batches, decode.
 * Knows nothing of NATS. Opening includes a smoke inference: a model that loads but cannot answer is refused.
 */
import { ErrorCode, OfaError } from "../protocol/errors.ts";
import type { ModelInfo } from "../protocol/verdict.ts";
import { assembleBatch, type PreparedInput } from "./batch.ts";
import { decodeVerdict, type AnswerScores } from "./decode.ts";
import { loadManifest, type Manifest, type Precision } from "./manifest.ts";
import { preprocessImage, type ImageLimits } from "./preprocess.ts";
import { PillowResizer } from "./resizer.ts";
import { buildPrompt } from "./prompt.ts";
import { ModelSession } from "./session.ts";
import { loadTokenizer, type PromptTokenizer } from "./tokenizer.ts";

export type { PreparedInput } from "./batch.ts";
export type { AnswerScores } from "./decode.ts";
export type { Manifest } from "./manifest.ts";
export { loadManifest } from "./manifest.ts";

export interface ModelOptions {
  readonly modelDir: string;
  readonly executionProvider: "cpu" | "cuda";
  readonly precision: Precision;
  readonly intraOpThreads: number;
  readonly limits: ImageLimits;
  /** "pillow": bit-exact with the reference, in a thread; "sharp": faster, approximate. */
  readonly resize: "pillow" | "sharp";
}

export interface BatchResult {
  readonly answers: readonly AnswerScores[];
  readonly runMs: number;
  /** The raw answer logits, one row of `columns` per item in manifest `answers` order (bench/agreement.ts compares them). */
  readonly logits: Float32Array;
  readonly columns: number;
}

/**
 * The int8 graph answers with slightly different scores than the fp32 one it was made from, so its verdicts carry
 * their own version: the verdict cache (keyed by version) then never hands an fp32 answer to an int8 service or back.
 */
function infoFor(info: ModelInfo, precision: Precision): ModelInfo {
  return precision === "int8" ? Object.freeze({ ...info, version: `${info.version}-int8` }) : info;
}

export class Model {
  private constructor(
    readonly info: ModelInfo,
    readonly manifest: Manifest,
    private readonly tokenizer: PromptTokenizer,
    private readonly session: ModelSession,
    private readonly limits: ImageLimits,
    private readonly pillow: PillowResizer | undefined,
  ) {}

  static async open(options: ModelOptions): Promise<Model> {
    const dir = await loadManifest(options.modelDir);
    const tokenizer = await loadTokenizer(dir.dir, dir.manifest);
    const session = await ModelSession.open({
      onnxPath: dir.onnxPath(options.precision),
      executionProvider: options.executionProvider,
      intraOpThreads: options.intraOpThreads,
      inputNames: dir.manifest.inputs,
      outputName: dir.manifest.output,
    });
    const pillow = options.resize === "pillow" ? new PillowResizer() : undefined;
    const model = new Model(infoFor(dir.info, options.precision), dir.manifest, tokenizer, session, options.limits, pillow);
    try {
      await model.smokeTest();
    } catch (err) {
      await model.close();
      throw err;
    }
    return model;
  }

  /** Decode + resize + normalise the image and tokenise the prompt. Throws VerdictError on bad input. */
  async prepare(image: Uint8Array, text: string, premise?: string): Promise<PreparedInput> {
    const pixels = await preprocessImage(image, this.manifest.image, this.limits, this.pillow);
    return { pixels, inputIds: this.tokenizer.encodePrompt(buildPrompt(this.manifest, text, premise)) };
  }

  /** One session.run for the whole batch. */
  async infer(items: readonly PreparedInput[]): Promise<BatchResult> {
    const result = await this.session.run(assembleBatch(items, this.manifest));
    const answers = items.map((_, row) => decodeVerdict(result.logits.subarray(row * result.columns, (row + 1) * result.columns), this.manifest.answers));
    return { answers, runMs: result.runMs, logits: result.logits, columns: result.columns };
  }

  /** Runs a grey image through the whole path; refuses a model whose answers are not finite. */
  private async smokeTest(): Promise<void> {
    const size = this.manifest.image.size;
    const pixels = new Float32Array(3 * size * size);
    const inputIds = this.tokenizer.encodePrompt(buildPrompt(this.manifest, "there is a dog."));
    const { answers } = await this.infer([{ pixels, inputIds }]);
    const scores = Object.values(answers[0]!.scores);
    if (!scores.every(Number.isFinite)) {
      throw new OfaError(ErrorCode.MODEL_RUN, `model ${this.info.name} failed its smoke inference (non-finite scores)`);
    }
  }

  async close(): Promise<void> {
    await this.pillow?.close();
    await this.session.close();
  }
}
