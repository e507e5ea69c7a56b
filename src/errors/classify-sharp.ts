/**
 * The one place that decides what a sharp failure *is*. sharp (0.35) rejects with plain Errors that carry neither a
 * class nor a code, so its message text is all there is; test/unit/classify-sharp.test.ts produces the real ones.
 */
export type SharpFailure =
  /** More pixels than `limitInputPixels` allows: "Input image exceeds pixel limit". */
  | "pixel-limit"
  /** Anything else: a corrupt, truncated or unsupported image. */
  | "decode";

export function classifySharpError(err: unknown): SharpFailure {
  const message = err instanceof Error ? err.message : String(err);
  return /pixel limit/i.test(message) ? "pixel-limit" : "decode";
}
