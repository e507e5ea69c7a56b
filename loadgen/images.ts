/**
 * Request images: every JPEG/PNG/WebP in a directory, or synthetic ones generated with sharp.
 * Generated images are flat shapes (seeded), square sides spread evenly from 224 to 1024 like the
 * seed's test, formats cycling JPEG → PNG → WebP. They compress far better than photos: use
 * --images DIR when payload size matters to what is measured.
 */
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import sharp from "sharp";
import { LoadgenError, LoadgenErrorCode } from "./errors.ts";
import type { ImageSource } from "./options.ts";
import type { Random } from "./random.ts";

type ImageFormat = "jpeg" | "png" | "webp";

export interface ImageItem {
  readonly name: string;
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
  readonly bytes: Uint8Array;
}

const EXT_FORMAT: Readonly<Record<string, ImageFormat>> = { ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".webp": "webp" };
const FORMATS: readonly ImageFormat[] = ["jpeg", "png", "webp"];

export async function loadImages(source: ImageSource, random: Random): Promise<ImageItem[]> {
  return source.kind === "dir" ? readImageDir(source.dir) : generateImages(source.count, source.minSide, source.maxSide, random);
}

async function readImageDir(dir: string): Promise<ImageItem[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => EXT_FORMAT[extname(n).toLowerCase()] !== undefined).sort();
  } catch (err) {
    throw new LoadgenError(LoadgenErrorCode.IMAGES, `cannot read image directory ${dir}`, [], { cause: err });
  }
  if (names.length === 0) throw new LoadgenError(LoadgenErrorCode.IMAGES, `no .jpg/.jpeg/.png/.webp files in ${dir}`);
  return Promise.all(names.map((name) => readImage(join(dir, name), name)));
}

async function readImage(path: string, name: string): Promise<ImageItem> {
  const bytes = await readFile(path);
  try {
    const meta = await sharp(bytes).metadata();
    return { name, format: EXT_FORMAT[extname(name).toLowerCase()]!, width: meta.width ?? 0, height: meta.height ?? 0, bytes };
  } catch (err) {
    // A deliberately broken file is a fair thing to send, but it should be a choice, not an accident.
    throw new LoadgenError(LoadgenErrorCode.IMAGES, `${path} is not a readable image`, [], { cause: err });
  }
}

export async function generateImages(count: number, minSide: number, maxSide: number, random: Random): Promise<ImageItem[]> {
  const items: ImageItem[] = [];
  for (let i = 0; i < count; i++) {
    const side = count === 1 ? minSide : Math.round(minSide + ((maxSide - minSide) * i) / (count - 1));
    const format = FORMATS[i % FORMATS.length]!;
    const bytes = await sharp(Buffer.from(shapesSvg(side, random))).toFormat(format).toBuffer();
    items.push({ name: `generated-${i}-${side}.${format === "jpeg" ? "jpg" : format}`, format, width: side, height: side, bytes });
  }
  return items;
}

const COLOURS = ["#c0392b", "#2980b9", "#27ae60", "#f1c40f", "#8e44ad", "#ecf0f1", "#2c3e50"];

/** A background gradient and a handful of circles and rectangles: cheap to render, not blank to a model. */
function shapesSvg(side: number, random: Random): string {
  const pick = () => COLOURS[Math.floor(random.next() * COLOURS.length)]!;
  const shapes: string[] = [];
  for (let k = 0; k < 6; k++) {
    const x = Math.round(random.next() * side);
    const y = Math.round(random.next() * side);
    const r = Math.round((0.05 + random.next() * 0.2) * side);
    shapes.push(
      random.next() < 0.5
        ? `<circle cx="${x}" cy="${y}" r="${r}" fill="${pick()}"/>`
        : `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${r}" fill="${pick()}"/>`,
    );
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}">`,
    `<defs><linearGradient id="g" x2="1" y2="1"><stop offset="0" stop-color="${pick()}"/><stop offset="1" stop-color="${pick()}"/></linearGradient></defs>`,
    `<rect width="100%" height="100%" fill="url(#g)"/>`,
    ...shapes,
    `</svg>`,
  ].join("");
}

const NONCE_PREFIX = Buffer.from("\nofa-loadgen:");

/**
 * The image bytes plus a trailer unique to this request. JPEG, PNG and WebP decoders stop at the end
 * of the image (EOI, IEND, the RIFF length), so the pixels are identical (checked with sharp, failOn
 * "error"); but the bytes, and so the service's verdict-cache key (a hash of image, text, premise and
 * model), differ, and every request really runs the model. --repeat-images turns this off.
 */
export function withUniqueTrailer(bytes: Uint8Array, requestId: string): Uint8Array {
  return Buffer.concat([bytes, NONCE_PREFIX, Buffer.from(requestId)]);
}
