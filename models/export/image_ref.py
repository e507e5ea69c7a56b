"""Reference image preprocessing (docs/ofa-ve.md §2): RGB, PIL bicubic to SxS (aspect not kept),
/255, (x - mean) / std, CHW float32 — what torchvision's Resize+ToTensor+Normalize does on a PIL image.
"""
from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from PIL import Image


def preprocess_pil(img: Image.Image, size: int, mean: Sequence[float] = (0.5, 0.5, 0.5),
                   std: Sequence[float] = (0.5, 0.5, 0.5)) -> np.ndarray:
    """PIL image -> float32 [3, size, size]."""
    rgb = img.convert("RGB").resize((size, size), Image.BICUBIC)
    arr = np.asarray(rgb, dtype=np.float32) / 255.0
    arr = (arr - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def preprocess_bytes(data: bytes, size: int, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)) -> np.ndarray:
    """Encoded image bytes (PNG/JPEG/...) -> float32 [3, size, size]."""
    with Image.open(io.BytesIO(data)) as img:
        return preprocess_pil(img, size, mean, std)


def synthetic_image(width: int, height: int, seed: int) -> Image.Image:
    """A deterministic RGB test picture with smooth gradients, sharp edges and noise, so both
    the interpolation and the antialiasing of a resize are exercised."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 127.5 + 127.5 * np.sin(x / max(width, 1) * 6.0 + seed)
    g = 255.0 * (y / max(height - 1, 1))
    b = np.where(((x // 7) + (y // 5)) % 2 == 0, 230.0, 25.0)
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, size=(height, width, 3))
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
