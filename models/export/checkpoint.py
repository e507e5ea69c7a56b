"""Load an official OFA checkpoint into OfaModel strictly, failing with every missing/unexpected key.

Accepted: a ModelScope/HF `pytorch_model.bin` (keys with or without a `model.` prefix) or an
official fairseq `.pt` (state dict under ['model'], renamed per docs/ofa-ve.md §7). The derived
position buffers may be absent (they are rebuilt from the config); if present they must be what the
reference code builds, since the graph's lookup tables are rebuilt from them.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

import torch

from ofa_model import OfaModel
from ofa_positions import offset_lookup

# fairseq (OFA unify_transformer_layer.py) -> HF/ModelScope names, applied in order.
FAIRSEQ_RENAMES: List[Tuple[str, str]] = [
    (r"^(encoder\.layers\.\d+)\.attn_ln\.", r"\1.self_attn_mid_layer_norm."),
    (r"^(decoder\.layers\.\d+)\.self_attn_ln\.", r"\1.self_attn_mid_layer_norm."),
    (r"^(decoder\.layers\.\d+)\.cross_attn_ln\.", r"\1.cross_attn_mid_layer_norm."),
    (r"\.ffn_layernorm\.", ".ffn_layer_norm."),
    (r"\.encoder_attn_layer_norm\.", ".cross_attn_layer_norm."),
    (r"\.encoder_attn\.", ".cross_attn."),
]
DERIVED_BUFFERS = ("encoder.token_rp_bucket", "encoder.image_rp_bucket", "decoder.token_rp_bucket",
                   "decoder.image_rp_bucket", "decoder.image_position_idx")
TIED = ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "decoder.output_projection.weight")


class CheckpointMismatch(ValueError):
    """The checkpoint does not fit the architecture; the message lists every offending key."""


def read_state_dict(path: str) -> Tuple[Dict[str, torch.Tensor], str, Dict[str, Any]]:
    """-> (state dict in HF naming, 'hf' | 'fairseq', fairseq task settings or {})."""
    try:
        obj = torch.load(path, map_location="cpu")
    except ModuleNotFoundError as e:  # hydra-era fairseq checkpoints pickle omegaconf objects
        raise CheckpointMismatch(f"{path}: unpickling needs the module {e.name!r} "
                                 "(for fairseq checkpoints: apt-get install -y python3-omegaconf)") from e
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict) \
            and any(k in obj for k in ("args", "cfg", "optimizer_history", "extra_state")):
        return fairseq_to_hf(obj["model"]), "fairseq", _fairseq_task(obj)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise CheckpointMismatch(f"{path}: not a state dict (got {type(obj).__name__})")
    return strip_prefix(obj), "hf", {}


def _fairseq_task(obj: Dict[str, Any]) -> Dict[str, Any]:
    """Task settings saved with a fairseq checkpoint: `cfg.task` (hydra) or the legacy `args` namespace."""
    cfg = obj.get("cfg")
    task = cfg.get("task") if isinstance(cfg, dict) else getattr(cfg, "task", None)
    if task is None and obj.get("args") is not None:
        task = vars(obj["args"])
    try:
        return dict(task or {})
    except (TypeError, ValueError):
        return {k: task[k] for k in task}  # omegaconf DictConfig


def strip_prefix(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Drop the `model.` prefix a checkpoint saved from OfaForAllTasks carries."""
    return {k[len("model."):] if k.startswith("model.") else k: v for k, v in sd.items()}


def fairseq_to_hf(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    out = {}
    for k, v in sd.items():
        if k.endswith(".version") or k == "version":
            continue
        for pat, rep in FAIRSEQ_RENAMES:
            k = re.sub(pat, rep, k)
        out[k] = v
    return out


def _diff(model: OfaModel, sd: Dict[str, torch.Tensor]) -> List[str]:
    want = model.state_dict()
    problems = [f"missing: {k} {tuple(v.shape)}" for k, v in want.items() if k not in sd]
    problems += [f"unexpected: {k} {tuple(v.shape)}" for k, v in sd.items() if k not in want]
    problems += [f"shape: {k} checkpoint {tuple(v.shape)} vs model {tuple(want[k].shape)}"
                 for k, v in sd.items() if k in want and tuple(v.shape) != tuple(want[k].shape)]
    return problems


def _check_derived(model: OfaModel, sd: Dict[str, torch.Tensor]) -> List[str]:
    """Fill absent derived buffers; report present ones that differ from the reference rule."""
    notes, want = [], model.state_dict()
    for key in DERIVED_BUFFERS:
        if key not in sd:
            sd[key] = want[key].clone()
            notes.append(f"filled derived buffer {key}")
        elif sd[key].shape == want[key].shape and not torch.equal(sd[key].long(), want[key]):
            if key.endswith("token_rp_bucket") and not _is_toeplitz(sd[key]):
                raise CheckpointMismatch(f"{key} is not a function of i - j; cannot use offset lookup")
            notes.append(f"WARNING: {key} differs from the rule-built buffer; using the checkpoint's")
    return notes


def _is_toeplitz(b: torch.Tensor) -> bool:
    p = b.size(0)
    idx = torch.arange(p)
    return torch.equal(b, offset_lookup(b)[idx[:, None] - idx[None, :] + p - 1])


def load_strict(model: OfaModel, sd: Dict[str, torch.Tensor]) -> List[str]:
    """load_state_dict(strict=True) after the checks above; returns informational notes."""
    notes = _check_derived(model, sd)
    problems = _diff(model, sd)
    if problems:
        head = f"checkpoint does not match the OFA architecture ({len(problems)} problems):\n  "
        raise CheckpointMismatch(head + "\n  ".join(problems))
    tied = [k for k in TIED if k in sd]
    if any(not torch.equal(sd[tied[0]], sd[k]) for k in tied[1:]):
        notes.append("WARNING: tied embedding copies differ; the last one loaded wins")
    model.load_state_dict(sd, strict=True)
    model.refresh_lookups()
    return notes
