"""OFA transformer pieces: NormFormer attention and the encoder/decoder layers (inference only).

Behaviour follows ModelScope `modeling_ofa.py` (shared/ofa-ve.md §6): queries scaled by
(head_dim * attn_scale_factor)^-0.5, an additive per-head position bias before the mask, a learned
per-head scale `c_attn` before `out_proj`, pre-LN blocks with NormFormer's extra LayerNorms after
each attention (`*_mid_layer_norm`) and on the FFN hidden activation (`ffn_layer_norm`), exact GELU.
Dropout and drop-path are identities at inference and are left out.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ofa_config import OfaConfig


class OfaAttention(nn.Module):
    """Multi-head attention with OFA's bias and head scaling; names match the checkpoint."""

    def __init__(self, dim: int, heads: int, scale_factor: float):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        if self.head_dim * heads != dim:
            raise ValueError(f"d_model {dim} is not divisible by {heads} heads")
        self.scaling = float(self.head_dim * scale_factor) ** -0.5
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.q_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)
        self.c_attn = nn.Parameter(torch.ones(heads))

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, kv: torch.Tensor, bias: torch.Tensor,
                mask: Optional[torch.Tensor]) -> torch.Tensor:
        """x [B,T,D] queries, kv [B,S,D], mask additive or None; bias broadcastable to [B,H,T,S], or a pair
        of row blocks ([H,N,S] for the first N queries, [H,T-N,S] for the rest) that are never concatenated:
        softmax is per row, so each block attends on its own and only the [B,H,T,hd] outputs are joined."""
        q = self._split(self.q_proj(x) * self.scaling)
        k, v = self._split(self.k_proj(kv)), self._split(self.v_proj(kv))
        kt = k.transpose(-1, -2)
        if isinstance(bias, tuple):  # the encoder's (image rows, text rows) bias: OfaEncoder._row_biases
            n = bias[0].size(-2)
            out = torch.cat([_attend(q[:, :, :n], kt, v, bias[0], mask),
                             _attend(q[:, :, n:], kt, v, bias[1], mask)], dim=2)
        else:
            out = _attend(q, kt, v, bias, mask)  # [B,H,T,hd]
        out = out * self.c_attn.view(1, -1, 1, 1)
        b, _, t, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


def _attend(q: torch.Tensor, kt: torch.Tensor, v: torch.Tensor, bias: torch.Tensor,
            mask: Optional[torch.Tensor]) -> torch.Tensor:
    scores = torch.matmul(q, kt) + bias
    if mask is not None:
        scores = scores + mask
    return torch.matmul(F.softmax(scores, dim=-1), v)


def _ln(dim: int, enabled: bool = True) -> Optional[nn.LayerNorm]:
    return nn.LayerNorm(dim, eps=1e-5) if enabled else None


def _maybe(norm: Optional[nn.Module], x: torch.Tensor) -> torch.Tensor:
    return x if norm is None else norm(x)


class _Sublayers(nn.Module):
    """Shared helpers: a residual block around f with pre- or post-LN, and the NormFormer FFN."""

    pre_ln: bool

    def _residual(self, x: torch.Tensor, norm: nn.Module, mid: Optional[nn.Module], f) -> torch.Tensor:
        h = f(norm(x) if self.pre_ln else x)
        out = x + _maybe(mid, h)
        return out if self.pre_ln else norm(out)

    def _ffn(self, x: torch.Tensor) -> torch.Tensor:
        def f(h: torch.Tensor) -> torch.Tensor:
            return self.fc2(_maybe(self.ffn_layer_norm, F.gelu(self.fc1(h))))
        return self._residual(x, self.final_layer_norm, None, f)


class OfaEncoderLayer(_Sublayers):
    def __init__(self, cfg: OfaConfig):
        super().__init__()
        d = cfg.d_model
        self.pre_ln = cfg.encoder_normalize_before
        self.self_attn = OfaAttention(d, cfg.encoder_attention_heads, cfg.attn_scale_factor)
        self.self_attn_layer_norm = _ln(d)
        self.self_attn_mid_layer_norm = _ln(d, cfg.normformer)
        self.fc1 = nn.Linear(d, cfg.encoder_ffn_dim)
        self.fc2 = nn.Linear(cfg.encoder_ffn_dim, d)
        self.ffn_layer_norm = _ln(cfg.encoder_ffn_dim, cfg.normformer)
        self.final_layer_norm = _ln(d)

    def forward(self, x: torch.Tensor, bias: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self._residual(x, self.self_attn_layer_norm, self.self_attn_mid_layer_norm,
                           lambda h: self.self_attn(h, h, bias, mask))
        return self._ffn(x)


class OfaDecoderLayer(_Sublayers):
    def __init__(self, cfg: OfaConfig):
        super().__init__()
        d, heads = cfg.d_model, cfg.decoder_attention_heads
        self.pre_ln = cfg.decoder_normalize_before
        self.self_attn = OfaAttention(d, heads, cfg.attn_scale_factor)
        self.self_attn_layer_norm = _ln(d)
        self.self_attn_mid_layer_norm = _ln(d, cfg.normformer)
        self.cross_attn = OfaAttention(d, heads, cfg.attn_scale_factor)
        self.cross_attn_layer_norm = _ln(d)
        self.cross_attn_mid_layer_norm = _ln(d, cfg.normformer)
        self.fc1 = nn.Linear(d, cfg.decoder_ffn_dim)
        self.fc2 = nn.Linear(cfg.decoder_ffn_dim, d)
        self.ffn_layer_norm = _ln(cfg.decoder_ffn_dim, cfg.normformer)
        self.final_layer_norm = _ln(d)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, self_bias: torch.Tensor,
                causal: torch.Tensor, cross_bias: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        x = self._residual(x, self.self_attn_layer_norm, self.self_attn_mid_layer_norm,
                           lambda h: self.self_attn(h, h, self_bias, causal))
        x = self._residual(x, self.cross_attn_layer_norm, self.cross_attn_mid_layer_norm,
                           lambda h: self.cross_attn(h, memory, cross_bias, memory_mask))
        return self._ffn(x)
