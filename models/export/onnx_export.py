"""Trace OfaVisualEntailment to ONNX (opset 17) with dynamic batch, source and decoder lengths.

docs/ofa-ve.md §10 and docs/platform-notes.md §5: export with gradients enabled (no_grad makes torch 1.13
take non-exportable fused paths), from eval mode, and trace with a right-padded batch of two rows of
unequal lengths so the padding path is what gets recorded.
"""
from __future__ import annotations

import os
import warnings
from typing import List, Tuple

import numpy as np
import onnx
import torch

from ofa_ve import OfaVisualEntailment

OPSET = 17
# The encoder's attention exports as onnxruntime's MultiHeadAttention (ofa_layers.FusedAttention).
CUSTOM_OPSETS = {"com.microsoft": 1}
INPUT_NAMES = ["input_ids", "patch_images", "decoder_input_ids"]
OUTPUT_NAME = "answer_logits"


def pad_batch(rows: List[List[int]], pad_id: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [pad_id] * (width - len(r)) for r in rows], dtype=torch.long)


def trace_inputs(src_rows: List[List[int]], dec_rows: List[List[int]], pad_id: int,
                 image_size: int, seed: int = 1234) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded (input_ids, patch_images, decoder_input_ids) for tracing and self-checks."""
    rng = np.random.RandomState(seed)
    images = rng.uniform(-1, 1, size=(len(src_rows), 3, image_size, image_size)).astype(np.float32)
    return pad_batch(src_rows, pad_id), torch.from_numpy(images), pad_batch(dec_rows, pad_id)


def export_onnx(model: OfaVisualEntailment, inputs: Tuple[torch.Tensor, ...], path: str) -> None:
    """Write `path` (single file; OFA-large is 1.91 GB, under the 2 GiB protobuf limit)."""
    model.eval()
    tmp = path + ".partial"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            model, inputs, tmp, opset_version=OPSET, custom_opsets=CUSTOM_OPSETS, do_constant_folding=True,
            input_names=INPUT_NAMES, output_names=[OUTPUT_NAME],
            dynamic_axes={"input_ids": {0: "batch", 1: "src_len"}, "patch_images": {0: "batch"},
                          "decoder_input_ids": {0: "batch", 1: "tgt_len"}, OUTPUT_NAME: {0: "batch"}})
    if os.path.getsize(tmp) < (1 << 31) - (1 << 20):
        onnx.checker.check_model(tmp)
    os.replace(tmp, path)
