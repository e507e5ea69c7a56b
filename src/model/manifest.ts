/**
 * The model-directory contract (models/README.md): manifest.json names the ONNX files, their inputs and output,
 * the image preprocessing, the prompt templates, the tokenizer and the answer tokens. The service reads only this;
 * the tiny test model, the OFA-large-shaped benchmark model and a real OFA-large export all obey it.
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { OfaError, ErrorCode } from "../protocol/errors.ts";
import type { ModelInfo } from "../protocol/verdict.ts";
import type { ExecutionProvider } from "./providers.ts";

const OnnxFilesSchema = Type.Object({
  fp32: Type.String({ minLength: 1 }),
  fp16: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** Dynamic int8 matmuls for CPUs (models/export/quantize.py); one-graph form only. */
  int8: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/** The split form (models/README.md): an image-encoder graph and a text+fusion graph joined by the image embeddings. */
const SplitSchema = Type.Object({
  imageEncoder: OnnxFilesSchema,
  textFusion: OnnxFilesSchema,
  /** Output of the image encoder and input of the text+fusion graph ([B,N,D] float32). */
  imageEmbeds: Type.String({ minLength: 1 }),
  /**
   * When set, the text+fusion graph takes each image's state once ([I,N,D]) and this int64 [R] input names every
   * row's image (a Gather inside the graph); otherwise it takes one state per row ([R,N,D]). The webgpu form has it.
   */
  imageRows: Type.Optional(Type.String({ minLength: 1 })),
});

/** One execution provider's graphs: the one-graph form or the split pair. */
const GraphFormSchema = Type.Object({ onnx: Type.Optional(OnnxFilesSchema), split: Type.Optional(SplitSchema) });

const ManifestSchema = Type.Object({
  manifestVersion: Type.Literal(1),
  name: Type.String({ minLength: 1 }),
  version: Type.String({ minLength: 1 }),
  meaningful: Type.Boolean(),
  source: Type.Optional(Type.String()),
  /** The one-graph form; a split directory has `split` instead (at least one of the two is present). */
  onnx: Type.Optional(OnnxFilesSchema),
  split: Type.Optional(SplitSchema),
  /**
   * The same model written for onnxruntime's WebGPU provider (models/README.md §1.1b): the encoder's attention as
   * plain ops, which are exact there, where onnxruntime's MultiHeadAttention is not. Absent in directories exported
   * before it; `onnx`/`split` above are then the CPU (and CUDA) form.
   */
  webgpu: Type.Optional(GraphFormSchema),
  inputs: Type.Object({ inputIds: Type.String(), patchImages: Type.String(), decoderInputIds: Type.String() }),
  output: Type.String(),
  image: Type.Object({
    size: Type.Integer({ minimum: 8, maximum: 4096 }),
    resize: Type.Literal("bicubic"),
    mean: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
    std: Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })]),
  }),
  text: Type.Object({
    tokenizer: Type.String(),
    maxSourceTokens: Type.Integer({ minimum: 1 }),
    bosId: Type.Integer({ minimum: 0 }),
    padId: Type.Integer({ minimum: 0 }),
    eosId: Type.Integer({ minimum: 0 }),
  }),
  prompt: Type.Object({
    type: Type.Union([Type.Literal("none"), Type.Literal("prev_output")]),
    hypothesisOnly: Type.String(),
    withPremise: Type.String(),
  }),
  answers: Type.Array(
    Type.Object({ label: Type.Union([Type.Literal("yes"), Type.Literal("no"), Type.Literal("maybe")]), tokenId: Type.Integer({ minimum: 0 }) }),
    { minItems: 3, maxItems: 3 },
  ),
});
export type Manifest = Static<typeof ManifestSchema>;
export type ImageSpec = Manifest["image"];
export type Answer = Manifest["answers"][number];
type OnnxFiles = Static<typeof OnnxFilesSchema>;

/** Where the graphs of one precision are: one graph, or the split pair. */
type GraphPaths =
  | { readonly form: "one"; readonly model: string }
  | { readonly form: "split"; readonly imageEncoder: string; readonly textFusion: string; readonly imageEmbeds: string; readonly imageRows?: string };

/** Which ONNX file of the directory to load: fp32 (reference), fp16 (GPUs), int8 (CPUs, dynamic quantisation). */
export type Precision = "fp32" | "fp16" | "int8";

const EXPORT_HINT: Record<Precision, string> = {
  fp32: "the directory is incomplete",
  fp16: "export it with --fp16",
  int8: "make it with `/usr/bin/python3 models/export/quantize.py --model-dir DIR`",
};

const checkManifest = TypeCompiler.Compile(ManifestSchema);

/** A manifest together with the directory it came from. */
export interface ModelDir {
  readonly dir: string;
  readonly manifest: Manifest;
  onnxPath(precision: Precision): string;
  /**
   * The graphs `provider` runs: the split pair when the directory has one (preferred: it encodes each image once),
   * else the one graph; from the `webgpu` form for webgpu (cuda runs the CPU form).
   */
  graphs(precision: Precision, provider?: ExecutionProvider): GraphPaths;
  readonly info: ModelInfo;
}

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Resolves a model dir: as given (absolute or from the cwd), else relative to the package (so `models/tiny` works anywhere). */
function resolveModelDir(dir: string): string {
  const fromCwd = resolve(dir);
  if (existsSync(join(fromCwd, "manifest.json"))) return fromCwd;
  const fromPackage = resolve(PACKAGE_ROOT, dir);
  return existsSync(join(fromPackage, "manifest.json")) ? fromPackage : fromCwd;
}

export async function loadManifest(dirArg: string): Promise<ModelDir> {
  const dir = resolveModelDir(dirArg);
  const path = join(dir, "manifest.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new OfaError(ErrorCode.CONFIG, `cannot read model manifest ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!checkManifest.Check(raw)) {
    const problems = [...checkManifest.Errors(raw)].slice(0, 8).map((e) => `${e.path}: ${e.message}`);
    throw new OfaError(ErrorCode.CONFIG, `model manifest ${path} is invalid: ${problems.join("; ")}`);
  }
  const manifest = raw;
  const labels = new Set(manifest.answers.map((a) => a.label));
  if (labels.size !== 3) throw new OfaError(ErrorCode.CONFIG, `model manifest ${path}: answers must be yes, no and maybe once each`);
  if (!manifest.onnx && !manifest.split && !manifest.webgpu) throw new OfaError(ErrorCode.CONFIG, `model manifest ${path} names no graph: it needs \`onnx\` or \`split\``);
  const file = (files: OnnxFiles | undefined, precision: Precision, what: string): string => {
    const name = files?.[precision];
    if (!name) throw new OfaError(ErrorCode.CONFIG, `model ${manifest.name} has no ${precision} ${what} (${EXPORT_HINT[precision]})`);
    return join(dir, name);
  };
  return {
    dir,
    manifest,
    info: Object.freeze({ name: manifest.name, version: manifest.version, meaningful: manifest.meaningful }),
    onnxPath: (precision) => file(manifest.onnx, precision, "ONNX file"),
    graphs(precision, provider = "cpu") {
      const webgpu = provider === "webgpu";
      const form = webgpu ? manifest.webgpu : manifest;
      if (!form || (!form.onnx && !form.split)) {
        const fix = webgpu
          ? "it was exported before the webgpu form: re-export it (models/export/export.py writes --providers cpu,webgpu by default)"
          : "it has only the webgpu form: export it with --providers cpu,webgpu";
        throw new OfaError(ErrorCode.CONFIG, `model ${manifest.name} has no ${webgpu ? "webgpu" : "cpu"} graph form: ${fix}`);
      }
      if (webgpu && precision === "int8") throw new OfaError(ErrorCode.CONFIG, `model ${manifest.name}: int8 is a CPU variant (webgpu has no int8 kernels); use fp32 or fp16`);
      const what = webgpu ? "webgpu " : "";
      const split = form.split;
      if (!split) return { form: "one", model: file(form.onnx, precision, `${what}ONNX file`) };
      return {
        form: "split",
        imageEncoder: file(split.imageEncoder, precision, `${what}image-encoder graph`),
        textFusion: file(split.textFusion, precision, `${what}text+fusion graph`),
        imageEmbeds: split.imageEmbeds,
        ...(split.imageRows ? { imageRows: split.imageRows } : {}),
      };
    },
  };
}
