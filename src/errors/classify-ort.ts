/**
 * The one place that decides what an onnxruntime-node failure *is*. onnxruntime-node (1.30) throws plain Errors with
 * no class or code of their own, so the text is all there is; the messages it is matched against are the real ones
 * (test/unit/classify-ort.test.ts, test/integration/cuda-missing.test.ts).
 */
export type OrtFailure =
  /** The execution provider's shared libraries (or theirs: CUDA, cuDNN) could not be loaded. */
  | "provider-load"
  /** The WebGPU provider found no usable GPU adapter (no Vulkan driver, or none Dawn accepts). */
  | "no-adapter"
  | "other";

const PROVIDER_LOAD = /Failed to load (shared )?library|cannot open shared object file|providers_(shared|cuda)/i;
/** onnxruntime 1.30's webgpu_context.cc, measured with no Vulkan driver and with VK_DRIVER_FILES naming none. */
const NO_ADAPTER = /Failed to get a WebGPU adapter/i;

/** `err`: the thrown value or its message. */
export function classifyOrtError(err: unknown): OrtFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (NO_ADAPTER.test(message)) return "no-adapter";
  return PROVIDER_LOAD.test(message) ? "provider-load" : "other";
}
