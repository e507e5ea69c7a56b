"""What export.py exports: a random-weight preset (tiny/large) or the official checkpoint (real).

For `real`, every setting the ModelScope pipeline reads from configuration.json (docs/ofa-ve.md §9,
§11) is taken from the file: prompt_type, max_src_length, patch_image_size, the mean/std switch, a
prompt template override and the answer2label file whose key order fixes the answer columns.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from checkpoint import load_strict, read_state_dict
from ofa_config import OfaConfig, from_hf_config, large_config, nano480_config, tiny_config
from ofa_model import OfaModel
from ofa_ve import OfaVisualEntailment, build
from text_ref import HYPOTHESIS_ONLY, WITH_PREMISE, templates_from_override
from tokenizer_files import TokenizerAssets, real_assets, tiny_assets

DEFAULT_ANSWERS = ["no", "yes", "maybe"]  # OFA snli_ve.py default ans2label order
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


@dataclass
class Source:
    cfg: OfaConfig
    model: OfaVisualEntailment
    tokenizer: TokenizerAssets
    answers: List[Dict[str, Any]]
    name: str
    version_prefix: str
    source: str
    meaningful: bool
    prompt_type: str = "none"
    max_source_tokens: int = 256
    prompt: Dict[str, str] = field(default_factory=lambda: {
        "hypothesisOnly": HYPOTHESIS_ONLY, "withPremise": WITH_PREMISE})
    mean: List[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    std: List[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    bos: int = 0
    pad: int = 1
    eos: int = 2

    @property
    def params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def _answers(tok: TokenizerAssets, words: List[str]) -> List[Dict[str, Any]]:
    return [{"label": w, "tokenId": tok.token_id(w)} for w in words]


def random_source(args: argparse.Namespace) -> Source:
    tok = tiny_assets()
    configs = {"tiny": tiny_config, "nano480": nano480_config}
    cfg = configs[args.config](tok.size) if args.config in configs else large_config()
    if tok.size > cfg.vocab_size:
        raise ValueError(f"tokenizer has {tok.size} ids, model vocab {cfg.vocab_size}")
    answers = _answers(tok, DEFAULT_ANSWERS)
    model = build(cfg, [a["tokenId"] for a in answers], args.seed)
    return Source(
        cfg=cfg, model=model, tokenizer=tok, answers=answers,
        name=f"ofa-ve-{args.config}-random", version_prefix=f"{args.config}-seed{args.seed}",
        source=f"random weights, config {args.config}, seed {args.seed}", meaningful=False,
        prompt_type=args.prompt_type or "none", max_source_tokens=args.max_src_length or 256)


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _locate(args: argparse.Namespace):
    """-> (weights file, model dir holding configuration.json/config.json or None, vocab dir)."""
    if not args.checkpoint:
        raise SystemExit("--config real needs --checkpoint DIR_OR_FILE")
    ck = os.path.abspath(args.checkpoint)
    if os.path.isdir(ck):
        weights = next((os.path.join(ck, n) for n in ("pytorch_model.bin", "pytorch_model.pt", "model.pt")
                        if os.path.exists(os.path.join(ck, n))), None)
        if weights is None:
            raise SystemExit(f"{ck}: no pytorch_model.bin")
        return weights, ck, args.vocab_dir or ck
    folder = os.path.dirname(ck)
    has_cfg = os.path.exists(os.path.join(folder, "config.json"))
    return ck, folder if has_cfg else None, args.vocab_dir or folder


def _ms_settings(model_dir: Optional[str], fairseq_task: Dict[str, Any]) -> Dict[str, Any]:
    """configuration.json `model` section, or the fairseq task args, with the code defaults."""
    conf: Dict[str, Any] = {}
    if model_dir and os.path.exists(os.path.join(model_dir, "configuration.json")):
        full = _read_json(os.path.join(model_dir, "configuration.json"))
        conf = dict(full.get("model", {}))
        if full.get("task") not in (None, "visual-entailment"):
            print(f"[export] WARNING: configuration.json task is {full.get('task')!r}", file=sys.stderr)
    for key in ("prompt_type", "max_src_length", "patch_image_size"):
        if key not in conf and key in fairseq_task:
            conf[key] = fairseq_task[key]
    return conf


def real_source(args: argparse.Namespace) -> Source:
    weights, model_dir, vocab_dir = _locate(args)
    sd, flavour, task = read_state_dict(weights)
    conf = _ms_settings(model_dir, task)
    size = int(conf.get("patch_image_size", 480))
    if model_dir and os.path.exists(os.path.join(model_dir, "config.json")):
        cfg = from_hf_config(_read_json(os.path.join(model_dir, "config.json")), size)
    else:
        cfg = large_config()
        cfg.image_size = size
    tok = real_assets(os.path.join(vocab_dir, "vocab.json"), os.path.join(vocab_dir, "merges.txt"))
    words = DEFAULT_ANSWERS
    if conf.get("answer2label"):
        words = list(_read_json(os.path.join(model_dir or vocab_dir, conf["answer2label"])).keys())
    else:
        print("[export] WARNING: no model.answer2label; using OFA's default no/yes/maybe", file=sys.stderr)
    answers = _answers(tok, words)
    model = OfaModel(cfg)
    for note in load_strict(model, sd):
        print(f"[export] {note}", file=sys.stderr)
    mean, std = IMAGENET if conf.get("imagenet_default_mean_and_std") else ([0.5] * 3, [0.5] * 3)
    return Source(
        cfg=cfg, model=OfaVisualEntailment(model.eval(), [a["tokenId"] for a in answers]).eval(),
        tokenizer=tok, answers=answers, name=os.path.basename(model_dir or weights).split(".")[0] or "ofa-ve",
        version_prefix=f"real-{flavour}", source=f"{flavour} checkpoint {os.path.basename(weights)}",
        meaningful=True, prompt_type=args.prompt_type or conf.get("prompt_type", "none"),
        max_source_tokens=args.max_src_length or int(conf.get("max_src_length", 256)),
        prompt=templates_from_override(conf["prompt"]) if conf.get("prompt") else
        {"hypothesisOnly": HYPOTHESIS_ONLY, "withPremise": WITH_PREMISE},
        mean=list(mean), std=list(std))
