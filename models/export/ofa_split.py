"""The split form of the visual-entailment graph (models/README.md "Split form"):

  image_encoder.onnx  patch_images [B,3,S,S]                          -> image_state [B,N,5D+H]
  text_fusion.onnx    input_ids [R,T], image_state [R,N,5D+H], decoder_input_ids [R,L] -> answer_logits [R,A]

The image encoder is everything of the encoder that depends on the pixels alone (OfaEncoder.image_state): the
ResNet stem, projection, type embedding and patch LayerNorm give the image tokens, and the first layer's
attention among the image tokens (their q/k/v projections and image-only softmax, which the text part joins
exactly) comes with them. The image-position terms depend only on the fixed patch grid, so they are constants.
A request with N hypotheses about one image runs the image encoder once and the text+fusion graph on N rows that
share (repeat) its state. Chaining the two equals the one-graph export, which computes the same two parts.
"""
from __future__ import annotations

import os
import warnings
from typing import Tuple

import onnx
import torch
from torch import nn

from onnx_export import CUSTOM_OPSETS, OPSET, OUTPUT_NAME
from ofa_ve import OfaVisualEntailment, last_real_index

IMAGE_FILE, FUSION_FILE = "image_encoder.onnx", "text_fusion.onnx"
EMBEDS_NAME = "image_state"
# The webgpu form's text+fusion graph takes each image's state once, [I,N,W], and picks every row's image inside the
# graph (a Gather by `image_rows` [R]), so the host sends a policy list's 18.5 MB state (OFA-large) once, not per row.
IMAGE_ROWS_NAME = "image_rows"


def patch_grid(image_size: int) -> Tuple[int, int]:
    """The ResNet stem's output grid: conv/2, max-pool/2 and two stride-2 stages, each rounding up."""
    side = image_size
    for _ in range(4):
        side = (side + 1) // 2
    return side, side


class ImageEncoder(nn.Module):
    def __init__(self, ve: OfaVisualEntailment):
        super().__init__()
        self.ve = ve

    def forward(self, patch_images: torch.Tensor) -> torch.Tensor:
        encoder = self.ve.model.encoder
        return encoder.image_state(*encoder.embed_image(patch_images))


class TextFusionByImage(nn.Module):
    """TextFusion with the state given once per image and each row's image index: the webgpu form's graph."""

    def __init__(self, fusion: "TextFusion"):
        super().__init__()
        self.fusion = fusion

    def forward(self, input_ids: torch.Tensor, image_state: torch.Tensor, image_rows: torch.Tensor,
                decoder_input_ids: torch.Tensor) -> torch.Tensor:
        return self.fusion(input_ids, image_state.index_select(0, image_rows), decoder_input_ids)


class TextFusion(nn.Module):
    def __init__(self, ve: OfaVisualEntailment):
        super().__init__()
        self.ve = ve
        self.grid = patch_grid(ve.model.cfg.image_size)

    def forward(self, input_ids: torch.Tensor, image_state: torch.Tensor,
                decoder_input_ids: torch.Tensor) -> torch.Tensor:
        model = self.ve.model
        memory, memory_pad, src_pos = model.encoder.encode(input_ids, image_state, *self.grid)
        hidden = model.decoder(decoder_input_ids, memory, memory_pad, src_pos)
        last = last_real_index(decoder_input_ids, model.cfg.pad_token_id)
        picked = torch.gather(hidden, 1, last[:, None, None].expand(-1, 1, hidden.size(2)))
        rows = model.encoder.embed_tokens.weight[self.ve.answer_ids]
        return torch.matmul(picked[:, 0, :], rows.t())


def export_split(ve: OfaVisualEntailment, inputs: Tuple[torch.Tensor, ...], out_dir: str, infix: str = "",
                 by_image: bool = False) -> Tuple[str, str]:
    """Write both graphs into out_dir, traced with the same padded two-row inputs as the one-graph export; `infix`
    goes before `.onnx` in the file names, `by_image` writes TextFusionByImage (the webgpu form)."""
    ve.eval()
    input_ids, patch_images, decoder_ids = inputs
    encoder, fusion = ImageEncoder(ve).eval(), TextFusion(ve).eval()
    with torch.no_grad():
        embeds = encoder(patch_images)
    if embeds.size(1) != fusion.grid[0] * fusion.grid[1]:
        raise AssertionError(f"image encoder gave {embeds.size(1)} tokens, grid {fusion.grid}")
    image_path, fusion_path = (os.path.join(out_dir, f.replace(".onnx", f"{infix}.onnx")) for f in (IMAGE_FILE, FUSION_FILE))
    _export(encoder, (patch_images,), image_path, ["patch_images"], EMBEDS_NAME,
            {"patch_images": {0: "batch"}, EMBEDS_NAME: {0: "batch"}})
    if by_image:
        # Traced with the rows' images swapped, so the Gather is recorded for any row-to-image map.
        rows = torch.arange(embeds.size(0) - 1, -1, -1, dtype=torch.long)
        _export(TextFusionByImage(fusion).eval(), (input_ids, embeds[rows].detach(), rows, decoder_ids), fusion_path,
                ["input_ids", EMBEDS_NAME, IMAGE_ROWS_NAME, "decoder_input_ids"], OUTPUT_NAME,
                {"input_ids": {0: "rows", 1: "src_len"}, EMBEDS_NAME: {0: "images"}, IMAGE_ROWS_NAME: {0: "rows"},
                 "decoder_input_ids": {0: "rows", 1: "tgt_len"}, OUTPUT_NAME: {0: "rows"}})
        return image_path, fusion_path
    _export(fusion, (input_ids, embeds.detach(), decoder_ids), fusion_path,
            ["input_ids", EMBEDS_NAME, "decoder_input_ids"], OUTPUT_NAME,
            {"input_ids": {0: "rows", 1: "src_len"}, EMBEDS_NAME: {0: "rows"},
             "decoder_input_ids": {0: "rows", 1: "tgt_len"}, OUTPUT_NAME: {0: "rows"}})
    return image_path, fusion_path


def _export(module: nn.Module, args: Tuple[torch.Tensor, ...], path: str, input_names, output_name: str,
            axes) -> None:
    tmp = path + ".partial"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(module, args, tmp, opset_version=OPSET, custom_opsets=CUSTOM_OPSETS, do_constant_folding=True,
                          input_names=list(input_names), output_names=[output_name], dynamic_axes=axes)
    if os.path.getsize(tmp) < (1 << 31) - (1 << 20):
        onnx.checker.check_model(tmp)
    os.replace(tmp, path)
