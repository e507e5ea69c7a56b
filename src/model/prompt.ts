/**
 * OFA's caption cleaning and the visual-entailment prompt (docs/ofa-ve.md §3; ModelScope
 * preprocessors/ofa/base.py `pre_caption` and visual_entailment.py). Pure string functions.
 */
import type { Manifest } from "./manifest.ts";

const LEADING_PUNCTUATION = /^[,.!?*#:;~]+/;
const WHITESPACE_RUNS = /\s{2,}/g;

/**
 * pre_caption, step by step as the reference does it: lower-case; strip leading ,.!?*#:;~; '-' and '/' become spaces;
 * '<person>' becomes 'person'; runs of two or more whitespace become one space; trailing newlines then spaces are
 * stripped; only the first `maxWords` space-separated pieces are kept.
 */
export function preCaption(text: string, maxWords: number): string {
  let caption = text.toLowerCase().replace(LEADING_PUNCTUATION, "");
  caption = caption.replaceAll("-", " ").replaceAll("/", " ").replaceAll("<person>", "person");
  caption = caption.replace(WHITESPACE_RUNS, " ");
  caption = caption.replace(/\n+$/, "").replace(/^ +| +$/g, "");
  const words = caption.split(" ");
  return words.length > maxWords ? words.slice(0, maxWords).join(" ") : caption;
}

/** The prompt string fed to the BPE tokenizer. A premise selects the premise template (OFA's text1/text2 form). */
export function buildPrompt(manifest: Manifest, hypothesis: string, premise?: string): string {
  const maxWords = manifest.text.maxSourceTokens;
  const h = preCaption(hypothesis, maxWords);
  const slots: Record<string, string> = { hypothesis: h };
  if (premise !== undefined) slots.premise = preCaption(premise, maxWords);
  const template = premise === undefined ? manifest.prompt.hypothesisOnly : manifest.prompt.withPremise;
  // One pass over the template, as Python's str.format: a premise that contains "{hypothesis}" stays literal text.
  return template.replace(/\{(premise|hypothesis)\}/g, (slot, name: string) => slots[name] ?? slot);
}
