"""OFA transformer pieces: NormFormer attention and the encoder/decoder layers (inference only).

Behaviour follows ModelScope `modeling_ofa.py` (docs/ofa-ve.md §6): queries scaled by
(head_dim * attn_scale_factor)^-0.5, an additive per-head position bias before the mask, a learned
per-head scale `c_attn` before `out_proj`, pre-LN blocks with NormFormer's extra LayerNorms after
each attention (`*_mid_layer_norm`) and on the FFN hidden activation (`ffn_layer_norm`), exact GELU.
Dropout and drop-path are identities at inference and are left out.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ofa_config import OfaConfig

_NEG = torch.finfo(torch.float32).min

# How the encoder's attention core is written into the ONNX graph, per execution provider (models/README.md §1.1b):
# "mha", one onnxruntime MultiHeadAttention node per row block (the CPU form: ≈ 1.05x faster OFA-large on CPU); or
# "plain", the torch reference traced as MatMul/Add/Softmax/MatMul (the webgpu form). onnxruntime 1.30's WebGPU
# MultiHeadAttention rejects key_padding_mask, and with the padding folded into attention_bias it was 0.10-0.21 off the
# exact softmax attention on lavapipe (one node, random q/k/v of about ±2), while the plain ops on webgpu gave the CPU's
# logits within 2e-6.
ATTENTION_FORMS = ("mha", "plain")
_attention = {"form": "mha"}


@contextmanager
def attention_form(form: str) -> Iterator[None]:
    """Within the block, the encoder's attention exports in `form` ("mha" or "plain"); torch's result is the same."""
    if form not in ATTENTION_FORMS:
        raise ValueError(f"attention form {form!r} is not one of {ATTENTION_FORMS}")
    before = _attention["form"]
    _attention["form"] = form
    try:
        yield
    finally:
        _attention["form"] = before


def encoder_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor, keep: torch.Tensor,
                      heads: int) -> torch.Tensor:
    """FusedAttention in the current export form (attention_form): one MHA node, or its torch reference as plain ops."""
    if _attention["form"] == "plain":
        return FusedAttention.forward(None, q, k, v, bias, keep, heads)
    return FusedAttention.apply(q, k, v, bias, keep, heads)


def _additive(pad: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[B,S] bool key padding -> [B,1,1,S] additive mask (finfo.min where padded, as in MS)."""
    return torch.zeros_like(pad, dtype=dtype).masked_fill(pad, _NEG)[:, None, None, :]


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
        if isinstance(bias, tuple):  # the encoder's (image rows, text rows) bias: OfaEncoder._row_biases
            q = self.q_proj(x) * self.scaling
            k, v = self.k_proj(kv), self.v_proj(kv)
            keep = _keep(mask)
            n = bias[0].size(-2)
            out = torch.cat([encoder_attention(q[:, :n], k, v, bias[0], keep, self.heads),
                             encoder_attention(q[:, n:], k, v, bias[1], keep, self.heads)], dim=1)
            return self._project(out)
        q = self._split(self.q_proj(x) * self.scaling)
        k, v = self._split(self.k_proj(kv)), self._split(self.v_proj(kv))
        return self._merge(_attend(q, k.transpose(-1, -2), v, bias, mask))  # [B,H,T,hd] before the merge

    def _merge(self, out: torch.Tensor) -> torch.Tensor:
        """[B,H,T,hd] head outputs -> [B,T,D]: OFA's per-head scale, then out_proj."""
        return self._project(_heads_merged(out))

    def _project(self, out: torch.Tensor) -> torch.Tensor:
        """[B,T,D] head outputs side by side -> OFA's per-head scale, then out_proj."""
        b, t, d = out.shape
        scaled = out.view(b, t, self.heads, self.head_dim) * self.c_attn.view(1, 1, -1, 1)
        return self.out_proj(scaled.reshape(b, t, d))

    def attend_memory(self, x: torch.Tensor, memory: torch.Tensor, bias: torch.Tensor,
                      mask: torch.Tensor) -> torch.Tensor:
        """forward(x, memory, bias, mask) for few queries over a long memory, without projecting the memory.

        Per head h (W_h: the head's rows of a projection's weight, b_h its bias):
          q_h (M W_kh^T + b_kh)^T = (q_h W_kh) M^T + (q_h . b_kh)   and   P_h (M W_vh^T + b_vh) = (P_h M) W_vh^T + b_vh,
        the first because q_h . b_kh is the same for every key of a query, which softmax ignores, the second because
        each row of P_h sums to 1. The decoder asks with one token over N+T memory tokens: the k/v projections
        of the memory (2 (N+T) D^2 multiply-adds per layer, ≈ 10 % of an OFA-large request) become 2 H (N+T) D."""
        heads, hd, d = self.heads, self.head_dim, memory.size(-1)
        q = self._split(self.q_proj(x) * self.scaling)  # [B,H,L,hd]
        wk = self.k_proj.weight.view(heads, hd, d)
        wv = self.v_proj.weight.view(heads, hd, d).transpose(1, 2)  # [H,D,hd]
        mem = memory.unsqueeze(1)  # [B,1,S,D]
        scores = torch.matmul(torch.matmul(q, wk), mem.transpose(-1, -2)) + bias + mask  # [B,H,L,S]
        mixed = torch.matmul(F.softmax(scores, dim=-1), mem)  # [B,H,L,D]
        out = torch.matmul(mixed, wv) + self.v_proj.bias.view(1, heads, 1, hd)
        return self._merge(out)


    def image_part(self, h_img: torch.Tensor, bias_ii: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The image tokens' share of a first encoder layer's attention, which depends on the pixels alone.

        h_img [B,N,D] (the layer's normed image tokens), bias_ii [H,N,N] -> (q, k, v, a, lse): the image tokens'
        projections [B,H,N,hd] and, per image query, its attention over the image keys alone: a [B,H,N,hd] the
        softmax-weighted values, lse [B,H,N,1] the log of the softmax's denominator. attend_with_image (per
        hypothesis row) completes it with the text keys; a list of hypotheses about one image computes it once."""
        q = self._split(self.q_proj(h_img) * self.scaling)
        k, v = self._split(self.k_proj(h_img)), self._split(self.v_proj(h_img))
        scores = torch.matmul(q, k.transpose(-1, -2)) + bias_ii
        # Max, exp and sum rather than torch.logsumexp: onnxruntime's ReduceLogSumExp is ~4x slower than the three.
        top = scores.amax(dim=-1, keepdim=True)
        weights = torch.exp(scores - top)
        total = weights.sum(dim=-1, keepdim=True)
        return q, k, v, torch.matmul(weights, v) / total, top + torch.log(total)

    def attend_with_image(self, h_txt: torch.Tensor, image: Tuple[torch.Tensor, ...],
                          bias: Tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        """forward(h, h, bias, mask) of a first encoder layer, h = [image tokens, text tokens], from image_part's
        result and the normed text tokens h_txt [B,T,D]; bias: (the image rows' text columns [H,N,T], the text
        rows [H,T,N+T]), mask [B,1,1,N+T].

        Image query rows: their softmax over image and text keys is split in two and rejoined exactly,
        softmax([s_img, s_txt]) V = (e^lse a + e^s_txt V_txt) / (e^lse + sum e^s_txt), shifted by the row's maximum
        for range. Text query rows attend as in forward, over the image keys from image_part and their own."""
        q_i, k_i, v_i, a_i, lse = image
        n = k_i.size(2)
        q_t = self._split(self.q_proj(h_txt) * self.scaling)
        k_t, v_t = self._split(self.k_proj(h_txt)), self._split(self.v_proj(h_txt))
        s_it = torch.matmul(q_i, k_t.transpose(-1, -2)) + bias[0] + mask[..., n:]  # [B,H,N,T]
        top = torch.maximum(lse, s_it.amax(dim=-1, keepdim=True))
        w_img, w_txt = torch.exp(lse - top), torch.exp(s_it - top)
        out_i = (a_i * w_img + torch.matmul(w_txt, v_t)) / (w_img + w_txt.sum(dim=-1, keepdim=True))
        out_t = encoder_attention(_heads_merged(q_t), _heads_merged(torch.cat([k_i, k_t], dim=2)),
                                  _heads_merged(torch.cat([v_i, v_t], dim=2)), bias[1], _keep(mask), self.heads)
        return self._project(torch.cat([_heads_merged(out_i), out_t], dim=1))


def _heads_merged(x: torch.Tensor) -> torch.Tensor:
    """[B,H,T,hd] -> [B,T,H*hd], the inverse of OfaAttention._split."""
    b, h, t, hd = x.shape
    return x.transpose(1, 2).reshape(b, t, h * hd)


def _keep(mask: torch.Tensor) -> torch.Tensor:
    """The additive key mask [B,1,1,S] (0 or finfo.min) as the int32 [B,S] key-padding mask (1 attend, 0 not)."""
    return mask[:, 0, 0, :].eq(0).to(torch.int32)


class FusedAttention(torch.autograd.Function):
    """softmax(q k^T + bias, keys where keep is 0 left out) v for the encoder, heads side by side: q [B,S,D] (already
    scaled), k and v [B,T,D], bias [H,S,T], keep [B,T] int32 -> [B,S,D]. torch computes it as the reference does
    (_attend, finfo.min on the left-out keys); the export writes one onnxruntime MultiHeadAttention node
    (com.microsoft), which does the bias add, the masking, the softmax and both products head by head in cache
    instead of four passes over [B,H,S,T] tensors in memory (≈ 35 % less time for that part of each layer, measured
    at OFA-large's 900 x 914 per head; its output equals the unfused ops' here)."""

    @staticmethod
    def forward(ctx, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor, keep: torch.Tensor,
                heads: int) -> torch.Tensor:
        b, s, d = q.shape
        split = lambda x: x.reshape(b, x.size(1), heads, d // heads).transpose(1, 2)  # noqa: E731
        mask = _additive(keep.eq(0), q.dtype)
        return _heads_merged(_attend(split(q), split(k).transpose(-1, -2), split(v), bias, mask))

    @staticmethod
    def symbolic(g, q, k, v, bias, keep, heads: int):
        from torch.onnx import symbolic_helper
        bias4 = g.op("Unsqueeze", bias, g.op("Constant", value_t=torch.tensor([0], dtype=torch.long)))
        no_qkv_bias = symbolic_helper._optional_input_placeholder_tensor(g)
        return g.op("com.microsoft::MultiHeadAttention", q, k, v, no_qkv_bias, keep, bias4,
                    num_heads_i=heads, scale_f=1.0, mask_filter_value_f=_NEG)


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

    def attn_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the attention reads: x normed (pre-LN) or x itself (post-LN); per token, so image tokens alone
        give the same rows as the whole sequence."""
        return self.self_attn_layer_norm(x) if self.pre_ln else x

    def forward_with_image(self, x: torch.Tensor, image: Tuple[torch.Tensor, ...],
                           bias: Tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        """forward for the first layer when its image_part is already computed (OfaEncoder.image_state)."""
        n = image[1].size(2)
        x = self._residual(x, self.self_attn_layer_norm, self.self_attn_mid_layer_norm,
                           lambda h: self.self_attn.attend_with_image(h[:, n:], image, bias, mask))
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
                           lambda h: self.cross_attn.attend_memory(h, memory, cross_bias, memory_mask))
        return self._ffn(x)
