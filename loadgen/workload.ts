/**
 * What each request carries: an image, a hypothesis text and, when premises were given, a premise,
 * each drawn from its pool with the run's seeded PRNG. Texts files hold one text per line; blank
 * lines and lines starting with # are skipped.
 */
import { readFile } from "node:fs/promises";
import { LoadgenError, LoadgenErrorCode } from "./errors.ts";
import type { ImageItem } from "./images.ts";
import type { TextSource } from "./options.ts";
import type { Random } from "./random.ts";

/** Used when no --texts file is given; they talk about what generated images show. */
export const DEFAULT_TEXTS: readonly string[] = Object.freeze([
  "there is a red circle in the picture",
  "the image shows a blue rectangle",
  "the picture is mostly green",
  "there are several shapes on a gradient background",
  "a yellow square is in the top left corner",
  "the image is completely black",
  "two circles overlap",
  "there is a dog in the picture",
  "the background is a single flat colour",
  "a purple shape touches the edge of the image",
]);

interface WorkItem {
  readonly image: ImageItem;
  readonly text: string;
  readonly premise: string | undefined;
  /** A policy list (--hypotheses N > 1): N texts about the image, `text` being the first. */
  readonly hypotheses?: readonly string[];
}

export interface Workload {
  next(): WorkItem;
  readonly images: readonly ImageItem[];
  readonly texts: readonly string[];
  readonly premises: readonly string[];
}

export function createWorkload(images: readonly ImageItem[], texts: readonly string[], premises: readonly string[], random: Random, hypotheses = 1): Workload {
  const pick = <T>(pool: readonly T[]): T => pool[Math.floor(random.next() * pool.length)]!;
  const one = (): WorkItem => ({ image: pick(images), text: pick(texts), premise: premises.length > 0 ? pick(premises) : undefined });
  const list = (): WorkItem => {
    const item = one();
    const rest = Array.from({ length: hypotheses - 1 }, () => pick(texts));
    return { ...item, hypotheses: [item.text, ...rest] };
  };
  return { images, texts, premises, next: hypotheses > 1 ? list : one };
}

export async function loadTexts(source: TextSource | undefined, fallback: readonly string[], what: string): Promise<readonly string[]> {
  if (source === undefined) return fallback;
  const texts = source.kind === "list" ? source.texts.filter((t) => t.trim() !== "") : await readLines(source.path, what);
  if (texts.length === 0) {
    throw new LoadgenError(LoadgenErrorCode.TEXTS, `no ${what} in ${source.kind === "file" ? source.path : "the given list"}`);
  }
  return texts;
}

async function readLines(path: string, what: string): Promise<string[]> {
  let content: string;
  try {
    content = await readFile(path, "utf8");
  } catch (err) {
    throw new LoadgenError(LoadgenErrorCode.TEXTS, `cannot read ${what} file ${path}`, [], { cause: err });
  }
  return content
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}
