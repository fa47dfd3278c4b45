"""Hugging Face style: x·cos + rotate_half(x)·sin with cat(freqs, freqs) tables, float32 arithmetic for
float32 and smaller inputs (float64 angles); interleaved through a permutation to halves and back."""
import math

import torch


def rope_frequencies(dim, base=10000.0):
    if not (isinstance(dim, int) and dim > 0 and dim % 2 == 0):
        raise ValueError(f"bad dim {dim}")
    return torch.tensor([math.pow(base, -2 * i / dim) for i in range(dim // 2)], dtype=torch.float64)


def _rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def _apply_half(x, angles):
    """Half layout: dims j and j + dim/2 share angles[:, j]."""
    work = torch.float64 if x.dtype == torch.float64 else torch.float32
    emb = torch.cat((angles, angles), dim=-1)
    cos, sin = emb.cos().to(work), emb.sin().to(work)
    xw = x.to(work)
    return (xw * cos + _rotate_half(xw) * sin).to(x.dtype)


def _to_half(dim):
    """perm with x_half = x_interleaved[..., perm]: evens first, then odds."""
    return list(range(0, dim, 2)) + list(range(1, dim, 2))


def _apply_interleaved(x, angles):
    dim = x.shape[-1]
    perm = _to_half(dim)
    inverse = [0] * dim
    for i, p in enumerate(perm):
        inverse[p] = i
    return _apply_half(x[..., perm], angles)[..., inverse]


def apply_rope(x, positions, base=10000.0, layout="interleaved"):
    if layout not in ("interleaved", "half"):
        raise ValueError(f"layout must be 'interleaved' or 'half', not {layout!r}")
    angles = positions.double().unsqueeze(-1) * rope_frequencies(x.shape[-1], base)
    return (_apply_interleaved if layout == "interleaved" else _apply_half)(x, angles)


def apply_rope_2d(x, h_pos, w_pos, base=10000.0):
    dim = x.shape[-1]
    if dim % 4 != 0:
        raise ValueError("apply_rope_2d needs dim % 4 == 0")
    theta = rope_frequencies(dim // 2, base)
    angles = torch.empty(len(h_pos), dim // 2, dtype=torch.float64)
    angles[:, 0::2] = w_pos.double()[:, None] * theta     # pairs 2i: the column
    angles[:, 1::2] = h_pos.double()[:, None] * theta     # pairs 2i+1: the row
    return _apply_interleaved(x, angles)


def patch_positions(grid_hw):
    h_pos, w_pos, cu = [], [], [0]
    for h, w in grid_hw:
        for r in range(h):
            h_pos += [r] * w
            w_pos += list(range(w))
        cu.append(cu[-1] + h * w)
    return (torch.tensor(h_pos, dtype=torch.int64), torch.tensor(w_pos, dtype=torch.int64),
            torch.tensor(cu, dtype=torch.int32))
