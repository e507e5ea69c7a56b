"""Reference GPT-2/BART byte-level BPE (encoder and a small trainer), standard library only.

This is the parity tests' "reference tokenizer": the public GPT-2 algorithm as used by HF's slow
`BartTokenizer` (= ModelScope `OFATokenizer`, docs/ofa-ve.md §3) — added tokens split out first,
then the GPT-2 pre-tokenisation pattern, bytes mapped to printable code points, merges applied by
rank. Python's `re` has no \\p{L}/\\p{N}, so the pattern
  's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
is implemented by hand with `unicodedata` categories and the Unicode White_Space set (what the
`regex` module's \\s means).
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Dict, Iterable, List, Sequence, Tuple

# Unicode White_Space property (PropList.txt).
_WHITE_SPACE = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)}
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's reversible byte -> printable character map (printable Latin-1 bytes map to themselves)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return out


def _kind(ch: str) -> str:
    if ch in _WHITE_SPACE:
        return "s"
    cat = unicodedata.category(ch)
    return "L" if cat[0] == "L" else "N" if cat[0] == "N" else "o"


def _run(text: str, i: int, kind: str) -> int:
    while i < len(text) and _kind(text[i]) == kind:
        i += 1
    return i


def _space_run(text: str, i: int) -> int:
    """End of the whitespace match at i: `\\s+(?!\\S)` backs off one char before a non-space."""
    j = _run(text, i, "s")
    if j < len(text) and j - i > 1:
        return j - 1
    return j


def pretokenize(text: str) -> List[str]:
    """Split text the way the GPT-2 pattern does (see module doc)."""
    pieces, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "'":
            hit = next((c for c in _CONTRACTIONS if text.startswith(c, i)), None)
            if hit:
                pieces.append(hit)
                i += len(hit)
                continue
        start = i
        if text[i] == " " and i + 1 < n and _kind(text[i + 1]) != "s":
            i += 1
        kind = _kind(text[i])
        j = _space_run(text, i) if kind == "s" else _run(text, i, kind)
        pieces.append(text[start:j])
        i = j
    return pieces


class ByteLevelBpe:
    """Encoder over a vocab {token: id}, ranked merges and added tokens matched before BPE."""

    def __init__(self, vocab: Dict[str, int], merges: Sequence[Tuple[str, str]],
                 added: Dict[str, int], strip: Dict[str, Tuple[bool, bool]]):
        """`strip[token] = (lstrip, rstrip)`: whitespace next to that added token is dropped."""
        self.vocab, self.added, self.strip = vocab, added, strip
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.byte_map = bytes_to_unicode()
        self._added_by_len = sorted(added, key=lambda s: (-len(s), s))
        self._cache: Dict[str, List[str]] = {}

    def _bpe(self, word: str) -> List[str]:
        if word in self._cache:
            return self._cache[word]
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 60), k) for k, (a, b) in enumerate(zip(parts, parts[1:]))]
            best = min(pairs)[0]
            if best == 1 << 60:
                break
            pair, merged, k = self._pair_of(parts, best), [], 0
            while k < len(parts):
                if k + 1 < len(parts) and (parts[k], parts[k + 1]) == pair:
                    merged.append(parts[k] + parts[k + 1])
                    k += 2
                else:
                    merged.append(parts[k])
                    k += 1
            parts = merged
        self._cache[word] = parts
        return parts

    def _pair_of(self, parts: List[str], rank: int) -> Tuple[str, str]:
        return next(p for p in zip(parts, parts[1:]) if self.ranks.get(p) == rank)

    def split_added(self, text: str) -> List[Tuple[str, bool]]:
        """[(segment, is_added_token)], earliest match first, longest token at a position."""
        out, buf, i, rstrip = [], "", 0, False
        while i < len(text):
            hit = next((a for a in self._added_by_len if text.startswith(a, i)), None) \
                if text[i] == "<" else None
            if hit is None:
                if not (rstrip and text[i].isspace()):
                    buf, rstrip = buf + text[i], False
                i += 1
                continue
            lstrip, rstrip = self.strip.get(hit, (False, False))
            buf = buf.rstrip() if lstrip else buf
            if buf:
                out.append((buf, False))
            out.append((hit, True))
            buf, i = "", i + len(hit)
        if buf:
            out.append((buf, False))
        return out

    def encode(self, text: str) -> List[int]:
        """Token ids without BOS/EOS (HF `add_special_tokens=False`)."""
        ids: List[int] = []
        for seg, is_added in self.split_added(text):
            if is_added:
                ids.append(self.added[seg])
                continue
            for piece in pretokenize(seg):
                mapped = "".join(self.byte_map[b] for b in piece.encode("utf-8"))
                ids.extend(self.vocab[t] for t in self._bpe(mapped))
        return ids


def train_merges(corpus: Iterable[str], n_merges: int) -> List[Tuple[str, str]]:
    """Plain BPE training on byte-mapped pre-tokens; ties broken by the pair's text (deterministic)."""
    byte_map = bytes_to_unicode()
    words = Counter("".join(byte_map[b] for b in p.encode("utf-8"))
                    for line in corpus for p in pretokenize(line))
    seqs = {w: list(w) for w in words}
    merges: List[Tuple[str, str]] = []
    for _ in range(n_merges):
        counts: Counter = Counter()
        for w, parts in seqs.items():
            for pair in zip(parts, parts[1:]):
                counts[pair] += words[w]
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        if counts[pair] < 2:
            break
        merges.append(pair)
        seqs = {w: _merge(parts, pair) for w, parts in seqs.items()}
    return merges


def _merge(parts: List[str], pair: Tuple[str, str]) -> List[str]:
    out, k = [], 0
    while k < len(parts):
        if k + 1 < len(parts) and (parts[k], parts[k + 1]) == pair:
            out.append(parts[k] + parts[k + 1])
            k += 2
        else:
            out.append(parts[k])
            k += 1
    return out


def force_single_token(word: str, merges: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """Append merges (leftmost pair first) until byte-mapped `word` encodes to one token."""
    merges = list(merges)
    while True:
        parts = ByteLevelBpe({}, merges, {}, {})._bpe(word)
        if len(parts) == 1:
            return merges
        merges.append((parts[0], parts[1]))
