/**
 * The only sharp importer. Image bytes → normalised Float32 CHW at the manifest's size.
 * Reference (docs/ofa-ve.md §2): EXIF-transpose, RGB, resize to size×size bicubic ignoring aspect ratio, /255,
 * (x − mean) / std. Two resizers: "pillow" (default) decodes with sharp and resizes with a port of Pillow's bicubic,
 * bit-exact with the reference, resized and normalised in the preprocessing pool (resizer.ts); "sharp" resizes inside libvips (cubic, shrink-on-load off),
 * several times faster but up to ~1.2 normalised units off Pillow at awkward scales (test/parity/preprocess.test.ts).
 * Cheap checks come first: format by magic bytes, then dimensions from the header, before any pixel is decoded.
 */
import sharp, { type OutputInfo } from "sharp";
import { ErrorCode, VerdictError } from "../protocol/errors.ts";
import { classifySharpError } from "../errors/classify-sharp.ts";
import type { ImageSpec } from "./manifest.ts";
import { normalise } from "./normalise.ts";
import type { PillowResizer } from "./resizer.ts";

// Parallelism comes from preprocessing several requests at once (libuv's pool decodes, the preprocessing pool
// resizes); libvips' own threads per image only add hand-offs (measured: ≈ 3.4 vs 6.5 ms CPU per 1024×768 JPEG).
sharp.concurrency(1);

/** Accepted formats. Anything else (GIF, TIFF, AVIF, HEIF, SVG, BMP…) is refused before libvips sees it. */
const ACCEPTED_FORMATS = ["jpeg", "png", "webp"] as const;
export type ImageFormat = (typeof ACCEPTED_FORMATS)[number];

export interface ImageLimits {
  readonly maxImagePixels: number;
}

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  const ascii = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString("latin1");
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  return undefined;
}

/** Without a PillowResizer, libvips resizes ("sharp" mode). */
export async function preprocessImage(bytes: Uint8Array, spec: ImageSpec, limits: ImageLimits, pillow?: PillowResizer): Promise<Float32Array> {
  if (bytes.byteLength === 0) throw new VerdictError(ErrorCode.IMAGE_EMPTY, "image has zero bytes");
  const format = sniffFormat(bytes);
  if (!format) throw new VerdictError(ErrorCode.IMAGE_FORMAT, `image format not accepted; send ${ACCEPTED_FORMATS.join(", ")}`);
  await checkDimensions(bytes, limits);
  if (!pillow) return normalise(await decodeResized(bytes, spec.size, limits), spec);
  const { data, info } = await decode(bytes, limits, (img) => img);
  // Transfer needs a buffer of its own: sharp's output may share a pooled ArrayBuffer, and on Node 24 it is external
  // memory owned by libvips, which postMessage cannot transfer (DataCloneError). One copy (≈ 0.2 ms for 1024×768).
  const own = Uint8Array.from(data);
  return pillow.resizeNormalise(own, info.width, info.height, spec);
}

type Pipeline = ReturnType<typeof sharp>;

/** Full-size decode as the default path does it (EXIF rotation, RGB): for the benchmark's side-by-side figures. */
export function decodeRgb(bytes: Uint8Array, limits: ImageLimits): Promise<{ data: Buffer; info: OutputInfo }> {
  return decode(bytes, limits, (img) => img);
}

async function decode(bytes: Uint8Array, limits: ImageLimits, shape: (p: Pipeline) => Pipeline): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    // failOn 'error': a cut-off file is an error (as in PIL), and so is a PNG whose IHDR or IDAT fails its CRC
    // (at 'truncated' libpng is told to ignore CRCs and decodes the damaged data); benign decoder warnings are not.
    const base = sharp(bytes, { failOn: "error", limitInputPixels: limits.maxImagePixels })
      .rotate() // EXIF orientation, as the reference's ImageOps.exif_transpose
      .removeAlpha() // RGBA → RGB drops alpha (PIL convert('RGB') does not composite)
      .toColourspace("srgb");
    const { data, info } = await shape(base).raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { data, info };
  } catch (err) {
    if (err instanceof VerdictError) throw err;
    const code = classifySharpError(err) === "pixel-limit" ? ErrorCode.IMAGE_TOO_LARGE : ErrorCode.IMAGE_DECODE;
    throw new VerdictError(code, `image could not be decoded: ${(err as Error).message}`, { cause: err });
  }
}

async function checkDimensions(bytes: Uint8Array, limits: ImageLimits): Promise<void> {
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch (err) {
    throw new VerdictError(ErrorCode.IMAGE_DECODE, `image header unreadable: ${(err as Error).message}`, { cause: err });
  }
  if (!width || !height) throw new VerdictError(ErrorCode.IMAGE_DECODE, "image has no dimensions");
  if (width * height > limits.maxImagePixels) {
    throw new VerdictError(
      ErrorCode.IMAGE_TOO_LARGE,
      `image is ${width}×${height} = ${width * height} pixels; the limit is ${limits.maxImagePixels}`,
    );
  }
}

async function decodeResized(bytes: Uint8Array, size: number, limits: ImageLimits): Promise<Buffer> {
  const { data } = await decode(bytes, limits, (img) => img.resize(size, size, { fit: "fill", kernel: "cubic", fastShrinkOnLoad: false }));
  return data;
}
