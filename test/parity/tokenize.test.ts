/**
 * Parity: prompt building (pre_caption + template) and BPE ids, TS (src/model/prompt.ts + tokenizer.ts on
 * @huggingface/tokenizers) vs the Python reference (models/export/text_ref.py + bpe.py) on the tiny
 * model's tokenizer.json. Ids must be equal, not close.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadManifest } from "../../src/model/manifest.ts";
import { buildPrompt } from "../../src/model/prompt.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import { reference, TINY_DIR } from "./reference.ts";

interface Item {
  hypothesis: string;
  premise?: string;
}

const LONG = Array.from({ length: 90 }, (_, i) => `word${i} and-more/${i}`).join(" ");

/** Casing, punctuation, unicode, hyphens/slashes, whitespace runs, contractions, numbers, literal
 * special/added tokens (split out before BPE, as the reference tokenizer does), long text. */
export const TEXTS: Item[] = [
  { hypothesis: "There are two birds." },
  { hypothesis: "THERE ARE TWO BIRDS!!!" },
  { hypothesis: "...,!?*#:;~ leading punctuation is stripped; trailing is kept?!" },
  { hypothesis: "a well-known T-shirt / jeans combo, 50/50 split" },
  { hypothesis: "  spaces   and\ttabs\t\tand\nnew\n\nlines  \n" },
  { hypothesis: "it's they're we'll I'd you've she'll can't don't" },
  { hypothesis: "Crème brûlée, naïve café, Ærøskøbing, İstanbul, straße" },
  { hypothesis: "东京的一只猫 and 日本語のテキスト" },
  { hypothesis: "emoji 🙂🐶 — dash – and “quotes” ‘single’ … ellipsis" },
  { hypothesis: "numbers 123 4.56 7,890 ½ ² Ⅻ ٣" },
  { hypothesis: "<person> holds a <person>'s umbrella" },
  { hypothesis: "quote \" inside \" quotes and 'apostrophes'" },
  { hypothesis: "" },
  { hypothesis: "added tokens <code_3> and  <bin_7>x, x<mask> y, <s>a <pad> <unk>" },
  { hypothesis: "A dog runs.", premise: "A man walks a dog in the park." },
  { hypothesis: "A dog runs.", premise: "" },
  { hypothesis: "Two-Way / street", premise: "CITY-Center/downtown, at NIGHT." },
  { hypothesis: `a very long text: ${LONG}` },
  { hypothesis: "short", premise: `a very long premise: ${LONG}` },
];

test("parity - prompts and token ids equal the Python reference", async () => {
  const { manifest, dir } = await loadManifest(TINY_DIR);
  const tokenizer = await loadTokenizer(dir, manifest);
  const ref = await reference<{ items: { prompt: string; inputIds: number[] }[] }>({
    cmd: "text", dir: TINY_DIR, items: TEXTS,
  });
  let truncated = 0;
  TEXTS.forEach((item, i) => {
    const want = ref.items[i]!;
    const prompt = buildPrompt(manifest, item.hypothesis, item.premise);
    assert.equal(prompt, want.prompt, `prompt of item ${i} (${JSON.stringify(item).slice(0, 60)})`);
    assert.deepEqual(tokenizer.encodePrompt(prompt), want.inputIds, `ids of item ${i}: ${JSON.stringify(prompt.slice(0, 60))}`);
    if (want.inputIds.length === manifest.text.maxSourceTokens + 2) truncated++;
  });
  assert.ok(truncated >= 2, "the long texts must reach the truncation limit");
});

test("parity - a premise containing a template slot stays literal, as str.format keeps it", async () => {
  const { manifest, dir } = await loadManifest(TINY_DIR);
  const tokenizer = await loadTokenizer(dir, manifest);
  const items = [{ hypothesis: "a cat", premise: "the {hypothesis} slot" }, { hypothesis: "x {premise} y" }];
  const ref = await reference<{ items: { prompt: string; inputIds: number[] }[] }>({ cmd: "text", dir: TINY_DIR, items });
  items.forEach((item, i) => {
    const prompt = buildPrompt(manifest, item.hypothesis, item.premise);
    assert.equal(prompt, ref.items[i]!.prompt);
    assert.deepEqual(tokenizer.encodePrompt(prompt), ref.items[i]!.inputIds);
  });
});
