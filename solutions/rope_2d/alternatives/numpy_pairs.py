"""numpy, float64 throughout: pairs as strided views of a float64 copy, cos/sin per call;
patch positions from numpy's divmod on each image's raster index."""
import numpy as np
import torch


def rope_frequencies(dim, base=10000.0):
    if dim <= 0 or dim % 2:
        raise ValueError("dim must be positive and even")
    return torch.from_numpy(np.power(float(base), -np.arange(0, dim, 2, dtype=np.float64) / dim))


def _rotate(x, first, second, angles):
    out = x.detach().to(torch.float64).numpy().copy()
    a, b = out[..., first].copy(), out[..., second].copy()
    cos, sin = np.cos(angles), np.sin(angles)
    out[..., first] = a * cos - b * sin
    out[..., second] = a * sin + b * cos
    return torch.from_numpy(out).to(x.dtype)


def apply_rope(x, positions, base=10000.0, layout="interleaved"):
    dim = x.shape[-1]
    theta = rope_frequencies(dim, base).numpy()
    angles = positions.numpy().astype(np.float64)[:, None] * theta
    if layout == "interleaved":
        return _rotate(x, slice(0, dim, 2), slice(1, dim, 2), angles)
    if layout == "half":
        return _rotate(x, slice(0, dim // 2), slice(dim // 2, dim), angles)
    raise ValueError(f"layout {layout!r}")


def apply_rope_2d(x, h_pos, w_pos, base=10000.0):
    dim = x.shape[-1]
    if dim % 4:
        raise ValueError("dim must be divisible by 4")
    theta = np.power(float(base), -4.0 * np.arange(dim // 4) / dim)
    angles = np.empty((len(h_pos), dim // 2))
    angles[:, 0::2] = w_pos.numpy()[:, None] * theta
    angles[:, 1::2] = h_pos.numpy()[:, None] * theta
    return _rotate(x, slice(0, dim, 2), slice(1, dim, 2), angles)


def patch_positions(grid_hw):
    rows, cols, cu = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [0]
    for h, w in grid_hw:
        r, c = np.divmod(np.arange(h * w, dtype=np.int64), w)
        rows.append(r)
        cols.append(c)
        cu.append(cu[-1] + h * w)
    return (torch.from_numpy(np.concatenate(rows)), torch.from_numpy(np.concatenate(cols)),
            torch.tensor(cu, dtype=torch.int32))
