#!/usr/bin/python3
"""Unit tests of the encoder's image state (OfaEncoder.image_state, OfaAttention.image_part/attend_with_image):
the first layer's attention split into an image-only part and a per-row text part, rejoined, equals attending
over the whole sequence at once (OfaEncoder.encode_plain), with padding, for the tiny config and for a
post-LN variant; and a list of rows sharing one image's state equals each row encoded on its own.

  /usr/bin/python3 models/export/test_image_state.py
"""
from __future__ import annotations

import dataclasses
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ofa_config import tiny_config  # noqa: E402
from ofa_model import OfaModel  # noqa: E402
from ofa_ve import randomize_  # noqa: E402


def _model(**changes) -> OfaModel:
    cfg = dataclasses.replace(tiny_config(300), **changes)
    model = OfaModel(cfg).eval()
    randomize_(model, 0)
    return model


def _inputs(model: OfaModel, rows: int = 3, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    cfg = model.cfg
    ids = torch.randint(4, cfg.vocab_size, (rows, 9), generator=g)
    ids[:, 0] = cfg.bos_token_id
    for r in range(rows):  # right padding of different lengths: the mask has to work on the text part
        ids[r, 9 - r:] = cfg.pad_token_id
        ids[r, 8 - r] = cfg.eos_token_id
    images = torch.randn(rows, 3, cfg.image_size, cfg.image_size, generator=g)
    return ids, images


class ImageStateTest(unittest.TestCase):
    def _check(self, model: OfaModel) -> None:
        ids, images = _inputs(model)
        with torch.no_grad():
            img, gh, gw = model.encoder.embed_image(images)
            plain, pad_a, pos_a = model.encoder.encode_plain(ids, img, gh, gw)
            split, pad_b, pos_b = model.encoder.encode(ids, model.encoder.image_state(img, gh, gw), gh, gw)
        real = ~pad_a
        diff = (plain - split).abs()[real].max().item()
        self.assertLess(diff, 2e-5, f"image-state path differs from the plain one by {diff}")
        self.assertGreater(plain[real].abs().max().item(), 0.1)
        self.assertTrue(torch.equal(pad_a, pad_b) and torch.equal(pos_a, pos_b))

    def test_equals_plain_attention(self) -> None:
        self._check(_model())

    def test_equals_plain_attention_post_ln(self) -> None:
        self._check(_model(encoder_normalize_before=False))

    def test_rows_share_one_image_state(self) -> None:
        model = _model()
        ids, images = _inputs(model)
        one = images[:1].expand(3, -1, -1, -1)
        with torch.no_grad():
            img, gh, gw = model.encoder.embed_image(images[:1])
            shared = model.encoder.image_state(img, gh, gw).expand(3, -1, -1)
            listed = model.encoder.encode(ids, shared, gh, gw)[0]
            alone = model.encoder(ids, one)[0]
        self.assertLess((listed - alone).abs().max().item(), 1e-5)

    def test_state_layout(self) -> None:
        model = _model()
        cfg = model.cfg
        with torch.no_grad():
            img, gh, gw = model.encoder.embed_image(torch.zeros(2, 3, cfg.image_size, cfg.image_size))
            state = model.encoder.image_state(img, gh, gw)
        heads = cfg.encoder_attention_heads
        self.assertEqual(tuple(state.shape), (2, gh * gw, 5 * cfg.d_model + heads))
        self.assertTrue(torch.equal(state[:, :, :cfg.d_model], img))


if __name__ == "__main__":
    unittest.main()
