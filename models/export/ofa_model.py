"""OFA encoder and decoder for inference, with the ModelScope/HF state-dict layout (docs/ofa-ve.md §7).

Encoder: ResNet patches (projected, type 1) followed by text tokens (type 0); no position embedding
is added to the tokens; instead LayerNorm'd absolute position embeddings go through separate q/k
linears into a per-head attention bias, plus per-layer relative-position tables (text block and
image block). Decoder: the same for its tokens, with its own self/cross position linears; the cross
bias uses the encoder's LayerNorm'd position embeddings. Deviations from the reference are
export-only and exact: masks are always applied (adding 0 where nothing is padded), position terms
are computed once without the batch dimension, and buckets are looked up from small tables.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ofa_config import OfaConfig
from ofa_layers import OfaDecoderLayer, OfaEncoderLayer, _additive, _ln, _maybe
from ofa_positions import (code_position_idx, image_bucket_matrix, image_position_ids,
                           offset_lookup, token_bucket_matrix)
from ofa_resnet import ResNetStem3

def _pos_bias(q_lin: nn.Linear, k_lin: nn.Linear, q_pos: torch.Tensor, k_pos: torch.Tensor,
              heads: int, scaling: float) -> torch.Tensor:
    """[Tq,D] x [Tk,D] position embeddings -> [H,Tq,Tk] absolute-position attention bias."""
    q = q_lin(q_pos).view(q_pos.size(0), heads, -1).transpose(0, 1) * scaling
    k = k_lin(k_pos).view(k_pos.size(0), heads, -1).transpose(0, 1)
    return torch.matmul(q, k.transpose(1, 2))


class _RelPos(nn.Module):
    """Per-layer relative-position tables and the bucket buffers stored with them."""

    def _init_rel(self, cfg: OfaConfig, layers: int, heads: int) -> None:
        n_tables = 1 if cfg.share_attn_bias else layers
        side = cfg.image_bucket_size
        n_img = (2 * side - 1) ** 2 + 3
        self.token_rel_pos_table_list = nn.ModuleList(
            [nn.Embedding(2 * cfg.token_bucket_size - 1, heads) for _ in range(n_tables)])
        self.image_rel_pos_table_list = nn.ModuleList(
            [nn.Embedding(n_img, heads) for _ in range(n_tables)])
        self.register_buffer("token_rp_bucket", token_bucket_matrix(cfg.token_bucket_size))
        self.register_buffer("image_rp_bucket", image_bucket_matrix(side))
        self.refresh_lookups()

    def refresh_lookups(self) -> None:
        """Rebuild the export-time lookup from the (possibly just loaded) bucket buffer."""
        self._token_offsets = offset_lookup(self.token_rp_bucket)

    def _text_rel(self, t: int, layer: int, device: torch.device) -> torch.Tensor:
        """[H,T,T] relative bias for T text positions (T may be dynamic in the traced graph)."""
        pos = torch.arange(t, device=device)
        p = self.token_rp_bucket.size(0)
        bucket = self._token_offsets[pos[:, None] - pos[None, :] + (p - 1)]
        table = self.token_rel_pos_table_list[0 if len(self.token_rel_pos_table_list) == 1 else layer]
        return F.embedding(bucket, table.weight).permute(2, 0, 1)


class OfaEncoder(_RelPos):
    def __init__(self, cfg: OfaConfig, embed_tokens: nn.Embedding):
        super().__init__()
        d, heads = cfg.d_model, cfg.encoder_attention_heads
        self.cfg, self.heads = cfg, heads
        self.embed_tokens = embed_tokens
        self.type_embedding = nn.Embedding(2, d) if cfg.add_type_embedding else None
        self.embed_images = ResNetStem3(cfg.resnet_layers, cfg.resnet_width)
        self.image_proj = nn.Linear(self.embed_images.out_channels, d)
        self.patch_layernorm_embedding = _ln(d, cfg.patch_layernorm_embedding)
        self.embed_positions = nn.Embedding(cfg.max_position_embeddings + 2, d)
        self.embed_image_positions = nn.Embedding(cfg.image_bucket_size ** 2 + 1, d)
        self.pos_ln, self.image_pos_ln = _ln(d), _ln(d)
        self.pos_scaling = float(d / heads * cfg.attn_scale_factor) ** -0.5
        self.pos_q_linear, self.pos_k_linear = nn.Linear(d, d), nn.Linear(d, d)
        self.layers = nn.ModuleList([OfaEncoderLayer(cfg) for _ in range(cfg.encoder_layers)])
        self.layer_norm = _ln(d, cfg.encoder_normalize_before)
        self._init_rel(cfg, cfg.encoder_layers, heads)
        self.layernorm_embedding = _ln(d, cfg.layernorm_embedding)
        self.embed_scale = d ** 0.5 if cfg.scale_embedding else 1.0

    def _image_pos(self, gh: int, gw: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Position ids [N] and raw position embeddings [N,D] of a gh x gw patch grid."""
        side = self.cfg.image_bucket_size
        if gh > side or gw > side:
            raise ValueError(f"patch grid {gh}x{gw} exceeds image_bucket_size {side}")
        ids = image_position_ids(gh, gw, side).to(self.embed_image_positions.weight.device)
        orig = self.cfg.orig_patch_image_size // 16
        if self.cfg.interpolate_position and gh * gw > orig * orig:
            old = self.embed_image_positions(image_position_ids(orig, orig, side))
            old = old.view(1, orig, orig, -1).permute(0, 3, 1, 2)
            emb = F.interpolate(old, size=(gh, gw), mode="bilinear").permute(0, 2, 3, 1)
            return ids, emb.reshape(gh * gw, -1)
        return ids, self.embed_image_positions(ids)

    def embed_image(self, patch_images: torch.Tensor) -> Tuple[torch.Tensor, int, int]:
        """The image-only part of the encoder: ResNet patches projected, type-embedded and LayerNorm'd.

        -> (image tokens [B,N,D], grid height, grid width). It depends on the pixels alone, so a list of
        hypotheses about one image needs it once (the split export's image-encoder graph is exactly this).
        """
        feat = self.embed_images(patch_images)  # [B,C,gh,gw]
        gh, gw = int(feat.shape[-2]), int(feat.shape[-1])
        img = self.image_proj(feat.flatten(2).transpose(1, 2)) * self.embed_scale
        if self.cfg.entangle_position_embedding:  # off for OFA-large (--disable-entangle)
            img = img + self._image_pos(gh, gw)[1]
        if self.type_embedding is not None:
            img = img + self.type_embedding.weight[1]
        return _maybe(self.patch_layernorm_embedding, img), gh, gw

    def _embed_text(self, input_ids: torch.Tensor, txt_pos: torch.Tensor) -> torch.Tensor:
        txt = self.embed_tokens(input_ids) * self.embed_scale
        if self.cfg.entangle_position_embedding:
            txt = txt + txt_pos
        if self.type_embedding is not None:
            txt = txt + self.type_embedding.weight[0]
        return _maybe(self.layernorm_embedding, txt)

    def forward(self, input_ids: torch.Tensor, patch_images: torch.Tensor):
        """-> (hidden [B,N+T,D], key-padding mask [B,N+T] bool, LN'd positions [N+T,D])."""
        img, gh, gw = self.embed_image(patch_images)
        return self.encode(input_ids, self.image_state(img, gh, gw), gh, gw)

    def image_state(self, img: torch.Tensor, gh: int, gw: int) -> torch.Tensor:
        """Everything of the encoder that depends on the pixels alone, packed per image token: [B,N,5D+H] =
        the image tokens [B,N,D], then the first layer's image part (OfaAttention.image_part: q, k, v and the
        image-only attention a, heads side by side, D each, and its H log-denominators). The split export's
        image encoder ends here, so a list of hypotheses about one image pays for it once."""
        first = self.layers[0]
        img_ids, img_pos = self._image_pos(gh, gw)
        pos_img = self.image_pos_ln(img_pos)
        q_lin, k_lin = self.pos_q_linear, self.pos_k_linear
        bias_ii = _pos_bias(q_lin, k_lin, pos_img, pos_img, self.heads, self.pos_scaling)
        bias_ii = bias_ii + self._image_rel(self.image_rp_bucket[img_ids][:, img_ids], 0)
        q, k, v, a, lse = first.self_attn.image_part(first.attn_input(img), bias_ii)
        b, n, d = img.shape
        heads = [t.transpose(1, 2).reshape(b, n, d) for t in (q, k, v, a)]
        return torch.cat([img, *heads, lse.squeeze(-1).transpose(1, 2)], dim=-1)

    def _unpack(self, state: torch.Tensor) -> Tuple[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """image_state's [B,N,5D+H] -> (image tokens [B,N,D], (q, k, v, a [B,H,N,hd], lse [B,H,N,1]))."""
        b, n, _ = state.shape
        d, h = self.cfg.d_model, self.heads
        parts = [state[:, :, i * d:(i + 1) * d] for i in range(5)]
        heads = [p.reshape(b, n, h, d // h).transpose(1, 2) for p in parts[1:]]
        lse = state[:, :, 5 * d:].transpose(1, 2).unsqueeze(-1)
        return parts[0], (*heads, lse)

    def encode(self, input_ids: torch.Tensor, state: torch.Tensor, gh: int, gw: int):
        """The rest of the encoder, from image_state's [B,N,5D+H] and the text ids."""
        img, image = self._unpack(state)
        return self._encode(input_ids, img, gh, gw, image)

    def encode_plain(self, input_ids: torch.Tensor, img: torch.Tensor, gh: int, gw: int):
        """The encoder from image tokens [B,N,D] with every layer attending over the whole sequence at once: the
        reference the image_state path is tested against (test_image_state.py); not exported."""
        return self._encode(input_ids, img, gh, gw, None)

    def _encode(self, input_ids: torch.Tensor, img: torch.Tensor, gh: int, gw: int,
                image: Optional[Tuple[torch.Tensor, ...]]):
        t = input_ids.size(1)
        pad = torch.cat([torch.zeros_like(input_ids[:, :1]).expand(-1, gh * gw).bool(),
                         input_ids.eq(self.cfg.pad_token_id)], dim=1)
        img_ids, img_pos = self._image_pos(gh, gw)
        txt_pos = self.embed_positions(torch.arange(t, device=input_ids.device))
        x = torch.cat([img, self._embed_text(input_ids, txt_pos)], dim=1)
        x = x * (1 - pad.unsqueeze(-1).type_as(x))
        pos_img, pos_txt = self.image_pos_ln(img_pos), self.pos_ln(txt_pos)
        pos = torch.cat([pos_img, pos_txt], dim=0)
        blocks = self._abs_blocks(pos_img, pos_txt)
        img_bucket = self.image_rp_bucket[img_ids][:, img_ids]
        mask = _additive(pad, x.dtype)
        for i, layer in enumerate(self.layers):
            if i == 0 and image is not None:  # its image-by-image part is in the image state
                x = layer.forward_with_image(x, image, self._row_biases(blocks, img_bucket, x, i, False), mask)
            else:
                x = layer(x, self._row_biases(blocks, img_bucket, x, i), mask)
        return _maybe(self.layer_norm, x), pad, pos

    def _abs_blocks(self, pos_img: torch.Tensor, pos_txt: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The absolute-position bias [H,N+T,N+T] as its four blocks (image/text rows x image/text columns).

        The image-by-image block reads only weights and the fixed patch grid, so onnxruntime folds it (plus each
        layer's image table) into one constant per layer at load; only the blocks that touch text run per call.
        """
        q_lin, k_lin, h, s = self.pos_q_linear, self.pos_k_linear, self.heads, self.pos_scaling
        return (_pos_bias(q_lin, k_lin, pos_img, pos_img, h, s), _pos_bias(q_lin, k_lin, pos_img, pos_txt, h, s),
                _pos_bias(q_lin, k_lin, pos_txt, pos_img, h, s), _pos_bias(q_lin, k_lin, pos_txt, pos_txt, h, s))

    def _image_rel(self, img_bucket: torch.Tensor, layer: int) -> torch.Tensor:
        """Layer `layer`'s image relative-position bias [H,N,N]."""
        tables = self.image_rel_pos_table_list
        table = tables[0 if len(tables) == 1 else layer]
        return F.embedding(img_bucket, table.weight).permute(2, 0, 1)

    def _row_biases(self, blocks: Tuple[torch.Tensor, ...], img_bucket: torch.Tensor, x: torch.Tensor,
                    layer: int, image_columns: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
        """Layer `layer`'s bias as (image rows [H,N,N+T], text rows [H,T,N+T]): the absolute bias plus the image
        table on the image block and the text table on the text block (nothing across). Equal to the reference's
        [H,N+T,N+T] sum element for element; kept as two row blocks (OfaAttention attends each on its own), no
        full-size bias is zero-padded, added whole or joined: two fewer passes over N+T squared per layer.
        image_columns False: the image rows' text columns [H,N,T] alone (the first layer's image columns are in
        the image state)."""
        # T read from the layer's input x (N+T tokens) and `it` cut to it (all of it) tie this layer's blocks to x, so
        # onnxruntime builds them when the layer runs: otherwise every layer's [H,N,N+T] block (≈ 52 MB in OFA-large)
        # is built up front and all twelve are alive at once (measured: +0.9 GB peak RSS).
        t = x.size(1) - img_bucket.size(0)
        txt = self._text_rel(t, layer, img_bucket.device)
        ii, it, ti, tt = blocks
        text_rows = torch.cat([ti, tt + txt], dim=2)
        if not image_columns:
            return it[:, :, :t], text_rows
        return torch.cat([ii + self._image_rel(img_bucket, layer), it[:, :, :t]], dim=2), text_rows


class OfaDecoder(_RelPos):
    def __init__(self, cfg: OfaConfig, embed_tokens: nn.Embedding):
        super().__init__()
        d, heads = cfg.d_model, cfg.decoder_attention_heads
        self.cfg, self.heads = cfg, heads
        self.embed_tokens = embed_tokens
        self.layers = nn.ModuleList([OfaDecoderLayer(cfg) for _ in range(cfg.decoder_layers)])
        self.layernorm_embedding = _ln(d, cfg.layernorm_embedding)
        self.embed_positions = nn.Embedding(cfg.max_position_embeddings + 2, d)
        self.embed_image_positions = nn.Embedding(cfg.image_bucket_size ** 2 + 1, d)
        self.pos_ln, self.image_pos_ln = _ln(d), _ln(d)
        self.pos_scaling = float(d / heads * cfg.attn_scale_factor) ** -0.5
        self.self_pos_q_linear, self.self_pos_k_linear = nn.Linear(d, d), nn.Linear(d, d)
        self.cross_pos_q_linear, self.cross_pos_k_linear = nn.Linear(d, d), nn.Linear(d, d)
        self.code_layernorm_embedding = _ln(d, cfg.code_layernorm_embedding)
        self.layer_norm = _ln(d, cfg.decoder_normalize_before)
        self.output_projection = nn.Linear(d, cfg.vocab_size, bias=False)
        self.output_projection.weight = embed_tokens.weight
        self._init_rel(cfg, cfg.decoder_layers, heads)
        self.register_buffer("image_position_idx",
                             code_position_idx(cfg.code_image_size, cfg.image_bucket_size))
        self.embed_scale = d ** 0.5 if cfg.scale_embedding else 1.0

    def forward(self, ids: torch.Tensor, memory: torch.Tensor, memory_pad: torch.Tensor,
                src_pos: torch.Tensor) -> torch.Tensor:
        """Final-LN hidden states [B,L,D] (no output projection: the VE head picks 3 rows)."""
        length = ids.size(1)
        tgt_pos = self.pos_ln(self.embed_positions(torch.arange(length, device=ids.device)))
        self_abs = _pos_bias(self.self_pos_q_linear, self.self_pos_k_linear, tgt_pos, tgt_pos,
                             self.heads, self.pos_scaling)
        cross = _pos_bias(self.cross_pos_q_linear, self.cross_pos_k_linear, tgt_pos, src_pos,
                          self.heads, self.pos_scaling)
        x = self.embed_tokens(ids) * self.embed_scale
        if self.cfg.entangle_position_embedding and not self.cfg.disable_entangle:
            x = x + self.embed_positions(torch.arange(length, device=ids.device))
        x = _maybe(self.layernorm_embedding, x)
        pos = torch.arange(length, device=ids.device)
        causal = torch.zeros(length, length, device=ids.device).masked_fill(
            pos[None, :] > pos[:, None], float("-inf"))
        mem_mask = _additive(memory_pad, x.dtype)
        for i, layer in enumerate(self.layers):
            x = layer(x, memory, self_abs + self._text_rel(length, i, ids.device), causal, cross, mem_mask)
        return _maybe(self.layer_norm, x)


class OfaModel(nn.Module):
    """Encoder + decoder sharing one token embedding (tied with the output projection)."""

    def __init__(self, cfg: OfaConfig):
        super().__init__()
        self.cfg = cfg
        shared = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=cfg.pad_token_id)
        self.encoder = OfaEncoder(cfg, shared)
        self.decoder = OfaDecoder(cfg, shared)

    def refresh_lookups(self) -> None:
        self.encoder.refresh_lookups()
        self.decoder.refresh_lookups()
