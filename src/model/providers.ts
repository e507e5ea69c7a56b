/**
 * Is the configured onnxruntime execution provider usable here? onnxruntime-node 1.30's Linux binary has the CPU
 * provider and the WebGPU provider (Dawn over Vulkan) built in; the CUDA provider is two extra shared libraries its
 * install script downloads (README "GPU"). webgpu needs the Vulkan loader (libvulkan.so.1) and a Vulkan driver: the
 * GPU vendor's, or Mesa's lavapipe on a CPU-only host. Without them a session fails inside the native code the same
 * way on every attempt, so a worker that hits it must not be restarted like a crashed one.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { classifyOrtError } from "../errors/classify-ort.ts";

const PROVIDER_UNAVAILABLE = "EXECUTION_PROVIDER_UNAVAILABLE";

export type ExecutionProvider = "cpu" | "cuda" | "webgpu";

const WEBGPU_HINT =
  "webgpu needs the Vulkan loader and a Vulkan driver: the GPU's (NVIDIA's driver ships its Vulkan ICD), or on Debian `apt-get install libvulkan1 mesa-vulkan-drivers` (lavapipe, a Vulkan device on the CPU; on Debian 12 from bookworm-backports: README \"GPU\"); `vulkaninfo --summary` lists the adapters; or set OFA_EXECUTION_PROVIDER=cpu";

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

/** Where the dynamic loader looks for libvulkan.so.1 on the usual Linux layouts (and LD_LIBRARY_PATH). */
function libraryDirs(env: NodeJS.ProcessEnv): string[] {
  const fromEnv = (env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean);
  const multiarch = process.arch === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  return [...fromEnv, `/usr/lib/${multiarch}`, `/lib/${multiarch}`, "/usr/lib64", "/usr/lib", "/lib64", "/lib", "/usr/local/lib"];
}

/** The Vulkan loader's path, or undefined when this host has none (webgpu then cannot start). */
export function findVulkanLoader(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return libraryDirs(env).map((d) => join(d, "libvulkan.so.1")).find((p) => existsSync(p));
}

/** Throws ProviderUnavailableError when `provider` cannot work with this install; checked before any session. */
export function assertExecutionProvider(provider: ExecutionProvider, binaryDir = onnxruntimeBinaryDir(), env: NodeJS.ProcessEnv = process.env): void {
  if (provider === "webgpu") {
    if (process.platform === "linux" && findVulkanLoader(env) === undefined) {
      throw new ProviderUnavailableError(`OFA_EXECUTION_PROVIDER=webgpu, but this host has no Vulkan loader (libvulkan.so.1): ${WEBGPU_HINT}`);
    }
    return;
  }
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
export function providerLoadFailure(provider: ExecutionProvider, message: string): ProviderUnavailableError | undefined {
  if (provider === "webgpu") {
    if (classifyOrtError(message) !== "no-adapter") return undefined;
    return new ProviderUnavailableError(`OFA_EXECUTION_PROVIDER=webgpu, but no Vulkan adapter could be opened (${firstLine(message)}): ${WEBGPU_HINT}`);
  }
  if (provider !== "cuda") return undefined;
  if (classifyOrtError(message) !== "provider-load") return undefined;
  return new ProviderUnavailableError(`OFA_EXECUTION_PROVIDER=cuda, but onnxruntime could not load its CUDA provider (${firstLine(message)}): ${INSTALL_HINT}`);
}

/** onnxruntime's messages start with the C++ source location; the reason is after it. */
function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/^\S*onnxruntime_src\S*\s+/, "").slice(0, 300);
}
