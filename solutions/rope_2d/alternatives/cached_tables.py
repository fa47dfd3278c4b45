"""Precomputed cos/sin tables cached per (dim, base) and grown on demand, gathered by position;
pairs as a (..., dim/2, 2) view rotated with torch.stack; patch positions vectorised, no loop per image."""
import torch

_TABLES = {}


def rope_frequencies(dim, base=10000.0):
    if dim <= 0 or dim % 2 != 0:
        raise ValueError("dim must be a positive even number")
    exponent = torch.arange(dim // 2, dtype=torch.float64) * (-2.0 / dim)
    return torch.exp(exponent * torch.log(torch.tensor(float(base), dtype=torch.float64)))


def _table(n_freq_dim, base, max_pos):
    """(cos, sin) of p · rope_frequencies(n_freq_dim)[j] for p = 0..max_pos, cached."""
    key = (n_freq_dim, float(base))
    cos, sin = _TABLES.get(key, (None, None))
    if cos is None or cos.shape[0] <= max_pos:
        size = max(max_pos + 1, 2 * (0 if cos is None else cos.shape[0]), 64)
        angles = torch.arange(size, dtype=torch.float64)[:, None] * rope_frequencies(n_freq_dim, base)
        cos, sin = angles.cos(), angles.sin()
        _TABLES[key] = (cos, sin)
    return cos, sin


def _lookup(positions, n_freq_dim, base):
    cos, sin = _table(n_freq_dim, base, int(positions.max()) if positions.numel() else 0)
    return cos[positions], sin[positions]


def _rotate(pairs, cos, sin):
    """pairs (..., T, dim/2, 2) -> rotated, in float64."""
    a, b = pairs.unbind(-1)
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1)


def apply_rope(x, positions, base=10000.0, layout="interleaved"):
    dim = x.shape[-1]
    if dim % 2:
        raise ValueError("odd dim")
    cos, sin = _lookup(positions, dim, base)
    x64 = x.double()
    if layout == "interleaved":
        return _rotate(x64.unflatten(-1, (dim // 2, 2)), cos, sin).flatten(-2).to(x.dtype)
    if layout == "half":
        pairs = x64.unflatten(-1, (2, dim // 2)).transpose(-1, -2)      # (..., T, dim/2, 2)
        return _rotate(pairs, cos, sin).transpose(-1, -2).flatten(-2).to(x.dtype)
    raise ValueError(layout)


def apply_rope_2d(x, h_pos, w_pos, base=10000.0):
    dim = x.shape[-1]
    if dim % 4:
        raise ValueError("dim % 4 != 0")
    cw, sw = _lookup(w_pos, dim // 2, base)        # theta_i = base^(-4i/dim)
    ch, sh = _lookup(h_pos, dim // 2, base)
    cos = torch.stack((cw, ch), dim=-1).flatten(-2)
    sin = torch.stack((sw, sh), dim=-1).flatten(-2)
    return _rotate(x.double().unflatten(-1, (dim // 2, 2)), cos, sin).flatten(-2).to(x.dtype)


def patch_positions(grid_hw):
    grid = torch.tensor(grid_hw, dtype=torch.int64).reshape(-1, 2)
    lengths = grid[:, 0] * grid[:, 1]
    cu = torch.zeros(len(lengths) + 1, dtype=torch.int64)
    cu[1:] = lengths.cumsum(0)
    image = torch.repeat_interleave(torch.arange(len(lengths)), lengths)
    local = torch.arange(int(cu[-1])) - cu[:-1][image]       # index within its own image
    width = grid[image, 1]
    return local // width, local % width, cu.to(torch.int32)
