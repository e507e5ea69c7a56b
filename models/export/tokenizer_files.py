"""Tokenizer assets: the tiny built-in BPE, the real BART vocab, and tokenizer.json writing.

Id layout follows BART/OFA (docs/ofa-ve.md §3): <s>=0 <pad>=1 </s>=2 <unk>=3, BPE tokens, <mask>,
then the added <code_i> and <bin_i> tokens. tokenizer.json uses the layout docs/platform-notes.md §4 verified
with @huggingface/tokenizers 0.2.0 (ByteLevel pre-tokenizer without prefix space, BPE model,
RobertaProcessing, ByteLevel decoder).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Dict, List, Tuple

from bpe import ByteLevelBpe, bytes_to_unicode, force_single_token, train_merges
from tiny_corpus import CORPUS

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
ANSWER_WORDS = ["yes", "no", "maybe"]
TINY_MERGES = 600
TINY_CODES, TINY_BINS = 16, 16  # the real vocab has 8192 and 1000


@dataclass
class TokenizerAssets:
    vocab: Dict[str, int]           # BPE vocab incl. specials and <mask>
    merges: List[Tuple[str, str]]
    added: Dict[str, int]           # every added token (specials, <mask>, codes, bins) -> id
    strip: Dict[str, Tuple[bool, bool]]

    @property
    def size(self) -> int:
        return max(list(self.vocab.values()) + list(self.added.values())) + 1

    def encoder(self) -> ByteLevelBpe:
        return ByteLevelBpe(self.vocab, self.merges, self.added, self.strip)

    def token_id(self, word: str) -> int:
        """Id of ' ' + word, which must be a single BPE token (an answer the closed form can score)."""
        ids = self.encoder().encode(" " + word)
        if len(ids) != 1:
            raise ValueError(f"answer {word!r} is {len(ids)} tokens ({ids}); single-token answers only")
        return ids[0]


def _with_added(vocab: Dict[str, int], merges, codes: int, bins: int) -> TokenizerAssets:
    """Add OFA's <code_i>/<bin_i> after the BPE vocab. They strip adjacent whitespace, as
    transformers' slow tokenizer did for plain-string added tokens; <mask> strips on its left."""
    added = {t: vocab[t] for t in SPECIALS + ["<mask>"]}
    strip = {"<mask>": (True, False)}
    nxt = max(vocab.values()) + 1
    for name in [f"<code_{i}>" for i in range(codes)] + [f"<bin_{i}>" for i in range(bins)]:
        added[name], strip[name] = nxt, (True, True)
        nxt += 1
    return TokenizerAssets(vocab, merges, added, strip)


def tiny_assets() -> TokenizerAssets:
    """Deterministic small BPE trained on the built-in caption corpus."""
    merges = train_merges(CORPUS, TINY_MERGES)
    space = bytes_to_unicode()[ord(" ")]
    for word in ANSWER_WORDS:
        merges = force_single_token(space + word, merges)
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for ch in bytes_to_unicode().values():
        vocab[ch] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab["<mask>"] = len(vocab)
    return _with_added(vocab, merges, TINY_CODES, TINY_BINS)


def real_assets(vocab_json: str, merges_txt: str) -> TokenizerAssets:
    """BART's vocab.json + merges.txt as shipped in the OFA checkpoint directory."""
    with open(vocab_json, encoding="utf-8") as f:
        vocab = json.load(f)
    with open(merges_txt, encoding="utf-8") as f:
        lines = [ln.rstrip("\n") for ln in f]
    merges = [tuple(ln.split(" ")) for ln in lines if ln and not ln.startswith("#version")]
    bad = [m for m in merges if len(m) != 2]
    if bad:
        raise ValueError(f"{merges_txt}: {len(bad)} malformed merge lines, first {bad[0]!r}")
    for tok, want in zip(SPECIALS, range(4)):
        if vocab.get(tok) != want:
            raise ValueError(f"{vocab_json}: expected {tok} = {want}, got {vocab.get(tok)}")
    if "<mask>" not in vocab:
        vocab["<mask>"] = max(vocab.values()) + 1
    return _with_added(vocab, merges, 8192, 1000)


def _added_entry(tok: str, tid: int, strip: Tuple[bool, bool]) -> dict:
    return {"id": tid, "content": tok, "single_word": False, "lstrip": strip[0], "rstrip": strip[1],
            "normalized": False, "special": tok in SPECIALS or tok == "<mask>"}


def tokenizer_json(a: TokenizerAssets) -> dict:
    """The Hugging Face tokenizers document for a GPT-2/BART byte-level BPE."""
    added = sorted(a.added.items(), key=lambda kv: kv[1])
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [_added_entry(t, i, a.strip.get(t, (False, False))) for t, i in added],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                           "trim_offsets": True, "add_prefix_space": False},
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": a.vocab,
                  "merges": [f"{x} {y}" for x, y in a.merges]},
    }


def tokenizer_config(max_len: int) -> dict:
    """Companion metadata some HF loaders want next to tokenizer.json (not part of the contract)."""
    return {"tokenizer_class": "BartTokenizer", "bos_token": "<s>", "eos_token": "</s>",
            "pad_token": "<pad>", "unk_token": "<unk>", "mask_token": "<mask>",
            "add_prefix_space": False, "model_max_length": max_len, "clean_up_tokenization_spaces": False}


def write_tokenizer(a: TokenizerAssets, out_dir: str, max_len: int) -> None:
    for name, doc in (("tokenizer.json", tokenizer_json(a)),
                      ("tokenizer_config.json", tokenizer_config(max_len))):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))


def load_tokenizer_json(path: str) -> TokenizerAssets:
    """Read back a tokenizer.json we wrote (parity tests use the file the service uses)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    merges = [tuple(m.split(" ")) for m in doc["model"]["merges"]]
    added = {t["content"]: t["id"] for t in doc["added_tokens"]}
    strip = {t["content"]: (t["lstrip"], t["rstrip"]) for t in doc["added_tokens"]
             if t["lstrip"] or t["rstrip"]}
    return TokenizerAssets(doc["model"]["vocab"], merges, added, strip)
