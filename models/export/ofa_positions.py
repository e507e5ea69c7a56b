"""OFA relative-position buckets and image position ids (docs/ofa-ve.md §4, §6).

The checkpoint stores the bucket matrices as buffers (`token_rp_bucket [1024,1024]`,
`image_rp_bucket [1765,1765]`, `image_position_idx [1025]`), so we build them with the same rules
to load strictly. The exported graph never embeds those big matrices: the text bucket depends only
on i - j, so a 1-D lookup over offsets (read back from the buffer) is gathered instead, and the
image buckets for the fixed patch grid are precomputed once.
"""
from __future__ import annotations

import math

import torch

# Both OFA code bases build the text buckets over 1024 positions whatever max_position_embeddings is.
TOKEN_BUCKET_POSITIONS = 1024


def token_bucket_matrix(bucket_size: int, positions: int = TOKEN_BUCKET_POSITIONS) -> torch.Tensor:
    """Bucket of each (query i, key j): exact offsets within +-bucket_size/2, log-spaced beyond.

    Evaluated in float32 like the reference so the ceil() boundaries fall on the same offsets.
    """
    idx = torch.arange(positions, dtype=torch.long)
    rel = idx[:, None] - idx[None, :]
    half = bucket_size // 2
    near = (rel < half) & (rel > -half)
    dist = torch.where(near, torch.full_like(rel, half - 1), rel.abs())
    scale = math.log((positions - 1) / half)
    logb = (torch.ceil(torch.log(dist / half) / scale * (half - 1)) + half).int()
    bucket = torch.where(dist.le(half), rel, logb * torch.sign(rel))
    return bucket.long() + bucket_size - 1


def offset_lookup(bucket: torch.Tensor) -> torch.Tensor:
    """1-D table t with bucket[i, j] == t[i - j + P - 1], read from a [P, P] bucket matrix."""
    p = bucket.size(0)
    fwd = bucket[torch.arange(p), 0]            # offsets 0 .. P-1   (i = k, j = 0)
    back = bucket[0, torch.arange(p - 1, 0, -1)]  # offsets -(P-1) .. -1 (i = 0, j = -k)
    return torch.cat([back, fwd]).contiguous()


def image_bucket_matrix(side: int) -> torch.Tensor:
    """[side^2+1]^2 buckets for 2-D offsets of grid cells; row/col 0 are the special slots."""
    span = 2 * side - 1
    n_rel = span * span + 3
    rows = torch.arange(side).repeat_interleave(side)
    cols = torch.arange(side).repeat(side)
    dr = rows[:, None] - rows[None, :] + side - 1
    dc = cols[:, None] - cols[None, :] + side - 1
    out = torch.zeros(side * side + 1, side * side + 1, dtype=torch.long)
    out[1:, 1:] = dr * span + dc
    out[0, :] = n_rel - 3
    out[:, 0] = n_rel - 2
    out[0, 0] = n_rel - 1
    return out


def image_position_ids(grid_h: int, grid_w: int, side: int) -> torch.Tensor:
    """Position id of each patch in row-major order: row * side + col + 1 (0 is reserved)."""
    rows = torch.arange(grid_h).repeat_interleave(grid_w)
    cols = torch.arange(grid_w).repeat(grid_h)
    return rows * side + cols + 1


def code_position_idx(code_image_size: int, side: int) -> torch.Tensor:
    """Decoder buffer for image-code generation (unused by VE, stored in the checkpoint): 1025 ids."""
    window = code_image_size // 8
    grid = image_position_ids(window, window, side)
    return torch.cat([torch.tensor([0]), grid, torch.full((768,), 1024, dtype=torch.long)])
