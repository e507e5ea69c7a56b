"""Reference text side of OFA visual entailment: pre_caption, prompt building, truncation, ids.

Rules from docs/ofa-ve.md §3 (ModelScope preprocessors/ofa/base.py + visual_entailment.py),
re-implemented: the hypothesis/premise are cleaned, put into the prompt template, the whole prompt is
byte-level-BPE encoded without specials, cut to the first `max_source_tokens` ids, then wrapped as
[bos] + ids + [eos]. Templates here use the manifest's named slots {hypothesis}/{premise}.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional

from bpe import ByteLevelBpe

HYPOTHESIS_ONLY = ' does the image describe " {hypothesis} "?'
WITH_PREMISE = ' can image and text1 " {premise} " imply text2 " {hypothesis} "?'

_MULTI_SPACE = re.compile(r"\s{2,}")  # Python str \s: every char for which str.isspace() is true


def pre_caption(text: str, max_words: Optional[int]) -> str:
    """lower, strip leading ,.!?*#:;~, '-' and '/' to spaces, <person> -> person, squeeze
    whitespace runs, drop trailing newlines and outer spaces, keep the first max_words words."""
    out = text.lower().lstrip(",.!?*#:;~").replace("-", " ").replace("/", " ")
    out = out.replace("<person>", "person")
    out = _MULTI_SPACE.sub(" ", out).rstrip("\n").strip(" ")
    words = out.split(" ")
    if max_words is not None and len(words) > max_words:
        out = " ".join(words[:max_words])
    return out


def build_prompt(prompt: Dict[str, str], hypothesis: str, premise: Optional[str],
                 max_words: Optional[int]) -> str:
    """Prompt text for one request; the premise form is chosen by presence, not emptiness."""
    hyp = pre_caption(hypothesis, max_words)
    if premise is None:
        return prompt["hypothesisOnly"].replace("{hypothesis}", hyp)
    prem = pre_caption(premise, max_words)
    # Substitute both slots in one pass so a premise containing "{hypothesis}" stays literal.
    return re.sub(r"\{(hypothesis|premise)\}", lambda m: hyp if m.group(1) == "hypothesis" else prem,
                  prompt["withPremise"])


def encode_prompt(bpe: ByteLevelBpe, text: str, max_source_tokens: int,
                  bos: int, eos: int) -> List[int]:
    """[bos] + first max_source_tokens BPE ids of the prompt + [eos]."""
    return [bos] + bpe.encode(text)[:max_source_tokens] + [eos]


def decoder_prompt(input_ids: List[int], prompt_type: str, bos: int) -> List[int]:
    """`none` -> [bos]; `prev_output` -> the source ids without their final eos."""
    if prompt_type == "none":
        return [bos]
    if prompt_type == "prev_output":
        return input_ids[:-1]
    raise ValueError(f"unsupported prompt_type {prompt_type!r}")


def templates_from_override(template: str) -> Dict[str, str]:
    """configuration.json `model.prompt` is one str.format template for both forms: the hypothesis
    form fills its slots with (hypothesis,), the premise form with (premise, hypothesis)."""
    slots = iter(range(10))

    def numbered(t: str) -> str:
        return re.sub(r"\{\}", lambda _m: "{%d}" % next(slots), t)

    numbered_t = numbered(template)
    if re.search(r"\{(?!\d\})", numbered_t.replace("{{", "").replace("}}", "")):
        raise ValueError(f"unsupported prompt template {template!r}: only {{}} / {{0}} / {{1}} slots")
    if "{{" in template or "}}" in template:
        raise ValueError(f"unsupported prompt template {template!r}: escaped braces")
    hyp_only = numbered_t.replace("{0}", "{hypothesis}")
    with_premise = numbered_t.replace("{0}", "{premise}").replace("{1}", "{hypothesis}")
    if "{1}" in hyp_only:
        raise ValueError(f"prompt template {template!r} needs 2 values for the hypothesis-only form")
    return {"hypothesisOnly": hyp_only, "withPremise": with_premise}
