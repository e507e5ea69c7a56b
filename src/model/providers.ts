/**
 * Is the configured onnxruntime execution provider installed? onnxruntime-node's npm package ships the CPU provider
 * only; the CUDA provider is two extra shared libraries its install script downloads (README "GPU"). Without them a
 * session with `cuda` fails inside the native loader with a message about libonnxruntime_providers_shared.so — the
 * same way on every attempt, so a worker that hits it must not be restarted like a crashed one.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { classifyOrtError } from "../errors/classify-ort.ts";

export const PROVIDER_UNAVAILABLE = "EXECUTION_PROVIDER_UNAVAILABLE";

const INSTALL_HINT =
  "install the CUDA build of onnxruntime-node on a host with CUDA 12 and cuDNN 9 (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`, README \"GPU\"), or set OFA_EXECUTION_PROVIDER=cpu";

/** A start-up failure no restart can heal: the execution provider is not installed. */
export class ProviderUnavailableError extends Error {
  readonly code = PROVIDER_UNAVAILABLE;
  /** Retrying cannot help: the supervisor keeps the worker down instead of restarting it. */
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = "ProviderUnavailableError";
  }
}

export function isPermanentStartError(err: unknown): err is ProviderUnavailableError {
  return err instanceof Error && (err as { permanent?: unknown }).permanent === true;
}

/** The directory holding onnxruntime-node's native binding for this platform (where provider libraries must be). */
export function onnxruntimeBinaryDir(): string {
  const pkg = createRequire(import.meta.url).resolve("onnxruntime-node/package.json");
  return join(dirname(pkg), "bin", "napi-v6", process.platform, process.arch);
}

/** The shared libraries the CUDA provider needs next to the binding, by platform. */
function cudaLibraries(): string[] | undefined {
  if (process.platform === "linux") return ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];
  if (process.platform === "win32") return ["onnxruntime_providers_shared.dll", "onnxruntime_providers_cuda.dll"];
  return undefined;
}

/** Throws ProviderUnavailableError when `provider` cannot work with this install; checked before any session. */
export function assertExecutionProvider(provider: "cpu" | "cuda", binaryDir = onnxruntimeBinaryDir()): void {
  if (provider !== "cuda") return;
  const libs = cudaLibraries();
  if (!libs) throw new ProviderUnavailableError(`OFA_EXECUTION_PROVIDER=cuda: onnxruntime has no CUDA provider on ${process.platform}; set OFA_EXECUTION_PROVIDER=cpu`);
  const missing = libs.filter((lib) => !existsSync(join(binaryDir, lib)));
  if (missing.length > 0) {
    throw new ProviderUnavailableError(
      `OFA_EXECUTION_PROVIDER=cuda, but this onnxruntime-node has no CUDA execution provider (missing ${missing.join(", ")} in ${binaryDir}): ${INSTALL_HINT}`,
    );
  }
}

/**
 * The typed error for a session-creation failure that is the provider's libraries failing to load (present but
 * unloadable, e.g. CUDA or cuDNN missing on the host); undefined for any other failure.
 */
export function providerLoadFailure(provider: "cpu" | "cuda", message: string): ProviderUnavailableError | undefined {
  if (provider !== "cuda") return undefined;
  if (classifyOrtError(message) !== "provider-load") return undefined;
  return new ProviderUnavailableError(`OFA_EXECUTION_PROVIDER=cuda, but onnxruntime could not load its CUDA provider (${message.split("\n")[0]}): ${INSTALL_HINT}`);
}
