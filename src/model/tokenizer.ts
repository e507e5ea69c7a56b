/**
 * GPT-2/BART byte-level BPE through @huggingface/tokenizers, reading the model dir's tokenizer.json.
 * As the reference does (ModelScope base.py tokenize_text): the whole prompt is encoded without special tokens,
 * cut to maxSourceTokens BPE ids, then wrapped as [bos] + ids + [eos].
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import type { Manifest } from "./manifest.ts";

export interface PromptTokenizer {
  encodePrompt(prompt: string): number[];
}

export async function loadTokenizer(dir: string, manifest: Manifest): Promise<PromptTokenizer> {
  const json = JSON.parse(await readFile(join(dir, manifest.text.tokenizer), "utf8")) as object;
  const tokenizer = new Tokenizer(json, {});
  const { bosId, eosId, maxSourceTokens } = manifest.text;
  return {
    encodePrompt(prompt) {
      const ids = tokenizer.encode(prompt, { add_special_tokens: false }).ids;
      return [bosId, ...ids.slice(0, maxSourceTokens), eosId];
    },
  };
}
