"""The exported visual-entailment graph: (input_ids, patch_images, decoder_input_ids) -> answer_logits.

docs/ofa-ve.md §5 (closed form) and §10: one encoder pass and one decoder pass; the decoder's
final-LN hidden state at the last non-pad position of `decoder_input_ids` is multiplied by the
tied-embedding rows of the A answer tokens. Softmax over those A logits equals ModelScope's traverse
scores. The A columns follow the manifest's `answers` order.
"""
from __future__ import annotations

from typing import List, Sequence

import numpy as np
import torch
from torch import nn

from ofa_config import OfaConfig
from ofa_model import OfaModel


class OfaVisualEntailment(nn.Module):
    def __init__(self, model: OfaModel, answer_ids: Sequence[int]):
        super().__init__()
        self.model = model
        self.answer_ids: List[int] = [int(a) for a in answer_ids]

    def forward(self, input_ids: torch.Tensor, patch_images: torch.Tensor,
                decoder_input_ids: torch.Tensor) -> torch.Tensor:
        enc = self.model.encoder
        memory, memory_pad, src_pos = enc(input_ids, patch_images)
        hidden = self.model.decoder(decoder_input_ids, memory, memory_pad, src_pos)
        last = last_real_index(decoder_input_ids, self.model.cfg.pad_token_id)
        picked = torch.gather(hidden, 1, last[:, None, None].expand(-1, 1, hidden.size(2)))
        rows = enc.embed_tokens.weight[self.answer_ids]  # [A,D] slice of the tied projection
        return torch.matmul(picked[:, 0, :], rows.t())


def last_real_index(ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Index of the last non-pad token per row (right padding); 0 for an all-pad row."""
    steps = torch.arange(1, ids.size(1) + 1, device=ids.device)
    return (ids.ne(pad_id).long() * steps).max(dim=1).values.clamp(min=1) - 1


# ---------------------------------------------------------------- random weights

def _fill(t: torch.Tensor, rng: np.random.RandomState, std: float, mean: float = 0.0) -> None:
    vals = rng.standard_normal(int(np.prod(t.shape)) or 1).astype(np.float32)
    t.copy_(torch.from_numpy(vals[: t.numel()].reshape(t.shape) * std + mean))


def _init_one(name: str, t: torch.Tensor, rng: np.random.RandomState) -> None:
    """A scale per kind of tensor, so that every path (biases, tables, norms) carries signal."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "running_var":
        _fill(t, rng, 0.1, 1.0)
        t.abs_()
    elif leaf in ("running_mean", "bias"):
        _fill(t, rng, 0.05)
    elif leaf == "c_attn" or t.dim() == 1:  # LayerNorm / BatchNorm scales
        _fill(t, rng, 0.1, 1.0 if ".bn3" not in name and "downsample.1" not in name else 0.3)
    elif "rel_pos_table" in name:
        _fill(t, rng, 0.5)
    elif t.dim() == 4:  # conv: He init on fan-in
        _fill(t, rng, (2.0 / (t.shape[1] * t.shape[2] * t.shape[3])) ** 0.5)
    elif "embed" in name or "type_embedding" in name:
        _fill(t, rng, 1.0)
    else:  # linear [out, in]
        _fill(t, rng, t.shape[1] ** -0.5)


@torch.no_grad()
def randomize_(model: OfaModel, seed: int) -> None:
    """Deterministic random weights from numpy's legacy RandomState (stable across versions)."""
    rng = np.random.RandomState(seed)
    seen = set()
    tensors = list(model.named_parameters()) + [
        (n, b) for n, b in model.named_buffers() if b.is_floating_point()]
    for name, t in tensors:
        if id(t) in seen:
            continue
        seen.add(id(t))
        _init_one(name, t, rng)


def build(cfg: OfaConfig, answer_ids: Sequence[int], seed: int | None) -> OfaVisualEntailment:
    model = OfaModel(cfg)
    if seed is not None:
        randomize_(model, seed)
    return OfaVisualEntailment(model.eval(), answer_ids).eval()
