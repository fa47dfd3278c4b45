"""Complex-number rotation, as Meta LLaMA and MoonViT write it: view_as_complex(x) · polar(1, angles);
the half layout is permuted to interleaved pairs and back; patch positions from meshgrid."""
import torch


def rope_frequencies(dim, base=10000.0):
    if dim < 2 or dim % 2:
        raise ValueError("dim must be even and positive")
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))


def _rotate_interleaved(x, angles):
    """x (..., T, dim) with pairs (2j, 2j+1); angles (T, dim/2) float64."""
    z = torch.view_as_complex(x.to(torch.float64).reshape(*x.shape[:-1], -1, 2).contiguous())
    cis = torch.polar(torch.ones_like(angles), angles)
    return torch.view_as_real(z * cis).flatten(-2).to(x.dtype)


def apply_rope(x, positions, base=10000.0, layout="interleaved"):
    dim = x.shape[-1]
    angles = torch.outer(positions.to(torch.float64), rope_frequencies(dim, base))
    if layout == "interleaved":
        return _rotate_interleaved(x, angles)
    if layout == "half":
        # (j, j + dim/2) -> (2j, 2j+1): interleave the halves, rotate, split them again.
        h = dim // 2
        inter = torch.stack([x[..., :h], x[..., h:]], dim=-1).flatten(-2)
        out = _rotate_interleaved(inter, angles).unflatten(-1, (h, 2))
        return torch.cat([out[..., 0], out[..., 1]], dim=-1)
    raise ValueError(f"unknown layout {layout!r}")


def apply_rope_2d(x, h_pos, w_pos, base=10000.0):
    dim = x.shape[-1]
    if dim % 4:
        raise ValueError("dim must be a multiple of 4")
    freqs = base ** (-torch.arange(0, dim, 4, dtype=torch.float64) / dim)
    w = torch.outer(w_pos.to(torch.float64), freqs)
    h = torch.outer(h_pos.to(torch.float64), freqs)
    return _rotate_interleaved(x, torch.cat([w[..., None], h[..., None]], dim=-1).reshape(len(h_pos), -1))


def patch_positions(grid_hw):
    hs, ws, lengths = [], [], []
    for h, w in grid_hw:
        rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        hs.append(rows.flatten())
        ws.append(cols.flatten())
        lengths.append(h * w)
    empty = torch.empty(0, dtype=torch.long)
    cu = torch.nn.functional.pad(torch.tensor(lengths, dtype=torch.long).cumsum(0), (1, 0))
    return torch.cat(hs) if hs else empty, torch.cat(ws) if ws else empty, cu.to(torch.int32)
