"""Reference solution for rope_2d: rotary position embeddings (RoFormer) in Meta LLaMA's
interleaved and Hugging Face's half layout, MoonViT's 2D variant, and the positions and
cu_seqlens of native-resolution images packed into one sequence."""
import torch

LAYOUTS = ("interleaved", "half")


def rope_frequencies(dim, base=10000.0):
    """theta_i = base ** (-2i / dim) for i < dim // 2, in float64."""
    if dim <= 0 or dim % 2:
        raise ValueError(f"rope needs a positive even dim, got {dim}")
    i = torch.arange(dim // 2, dtype=torch.float64)
    return base ** (-2.0 * i / dim)


def _angles(positions, freqs):
    """(T, F) angles p · theta in float64: at p ~ 1e5 float32 would be off by up to 4e-3 rad,
    float64 by ~1e-11, so the relative-position property survives long sequences."""
    return positions.to(torch.float64)[:, None] * freqs[None, :]


def _rotate_pairs(x, first, second, angles):
    """Rotate each pair (x[..., first][j], x[..., second][j]) by angles[..., j], counter-clockwise
    (the complex product (a + ib) · e^{i·angle}). Computed in float64, returned in x's dtype;
    the largest temporary is x-sized: no (T, dim, dim) matrix."""
    cos, sin = angles.cos(), angles.sin()
    a, b = x[..., first].to(torch.float64), x[..., second].to(torch.float64)
    out = torch.empty_like(x)
    out[..., first] = a * cos - b * sin
    out[..., second] = a * sin + b * cos
    return out


def _pairs(layout, dim):
    """The two index sets whose j-th elements form pair j."""
    if layout == "interleaved":          # Meta LLaMA, MoonViT: (2j, 2j + 1)
        return slice(0, None, 2), slice(1, None, 2)
    if layout == "half":                 # Hugging Face rotate_half: (j, j + dim/2)
        return slice(0, dim // 2), slice(dim // 2, None)
    raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def _check_tokens(x, *positions):
    for p in positions:
        if p.shape != (x.shape[-2],):
            raise ValueError(f"positions must have shape (T,) = ({x.shape[-2]},), got {tuple(p.shape)}")


def apply_rope(x, positions, base=10000.0, layout="interleaved"):
    """x (..., T, dim), positions (T,): pair j of token t rotated by positions[t] · theta_j."""
    _check_tokens(x, positions)
    first, second = _pairs(layout, x.shape[-1])
    angles = _angles(positions, rope_frequencies(x.shape[-1], base))
    return _rotate_pairs(x, first, second, angles)


def apply_rope_2d(x, h_pos, w_pos, base=10000.0):
    """MoonViT's 2D RoPE: interleaved pairs, theta_i = base ** (-4i / dim) for i < dim // 4;
    pair 2i (dims 4i, 4i+1) rotates by w_pos · theta_i, pair 2i+1 (dims 4i+2, 4i+3) by h_pos · theta_i."""
    dim = x.shape[-1]
    if dim <= 0 or dim % 4:
        raise ValueError(f"2D rope needs dim divisible by 4, got {dim}")
    _check_tokens(x, h_pos, w_pos)
    freqs = rope_frequencies(dim // 2, base)     # base ** (-2i / (dim/2)) = base ** (-4i / dim)
    # MoonViT's table is cat([w_cis, h_cis], -1) per frequency: w at even pairs, h at odd ones.
    angles = torch.stack([_angles(w_pos, freqs), _angles(h_pos, freqs)], dim=-1).flatten(-2)
    first, second = _pairs("interleaved", dim)
    return _rotate_pairs(x, first, second, angles)


def patch_positions(grid_hw):
    """[(h, w), ...] -> (h_pos, w_pos (T,) int64 in raster order per image, restarting at 0 for
    each image; cu_seqlens (n + 1,) int32 = 0, h1·w1, h1·w1 + h2·w2, ...)."""
    grids = [(int(h), int(w)) for h, w in grid_hw]
    if any(h < 1 or w < 1 for h, w in grids):
        raise ValueError(f"every grid needs h, w >= 1, got {grids}")
    cu = [0]
    for h, w in grids:
        cu.append(cu[-1] + h * w)
    h_parts, w_parts = [torch.zeros(0, dtype=torch.int64)], [torch.zeros(0, dtype=torch.int64)]
    for h, w in grids:
        t = torch.arange(h * w)          # raster index within this image: restarts at 0
        h_parts.append(t // w)
        w_parts.append(t % w)
    cu_seqlens = torch.tensor(cu, dtype=torch.int32)
    return torch.cat(h_parts), torch.cat(w_parts), cu_seqlens
