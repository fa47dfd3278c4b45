"""Dense matrix of the whole linear map, built in numpy (invisible to torch's operator hooks):
conv_transpose2d as one (C_out·H_out·W_out × C_in·H·W) numpy matrix, then a numpy matmul. Right
values, memory quadratic in the image size."""
import math

import numpy as np
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, (int, float)) else tuple(v)


# ---- pixel shuffle ------------------------------------------------------------------------------
def pixel_shuffle(x, r):
    """(N, C·r², H, W) -> (N, C, H·r, W·r): out[n, c, h·r + i, w·r + j] = x[n, c·r² + i·r + j, h, w]."""
    n, c, h, w = x.shape
    if r < 1 or c % (r * r):
        raise ValueError(f"pixel_shuffle: channels ({c}) must be divisible by r² = {r * r}")
    oc = c // (r * r)
    # torch's CRD order: the channel index splits as (c, i, j), c outermost.
    return x.reshape(n, oc, r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, oc, h * r, w * r)


def pixel_unshuffle(x, r):
    """The inverse: (N, C, H·r, W·r) -> (N, C·r², H, W)."""
    n, c, h, w = x.shape
    if r < 1 or h % r or w % r:
        raise ValueError(f"pixel_unshuffle: H and W ({h}, {w}) must be divisible by r = {r}")
    return (x.reshape(n, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4)
            .reshape(n, c * r * r, h // r, w // r))


# ---- interpolate --------------------------------------------------------------------------------
def _linear_taps(n_in, n_out, scale_factor, align_corners):
    """For each output index along one axis: the two source indices and the weight of the second."""
    dst = torch.arange(n_out, dtype=torch.float64)
    if n_out == n_in:
        # torch copies an axis whose size does not change, whatever scale_factor says.
        return dst.long(), dst.long(), torch.zeros(n_out, dtype=torch.float64)
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = scale * dst
    else:
        # A given scale_factor is used as is (recompute_scale_factor=None): 1/scale_factor, not in/out.
        scale = 1.0 / scale_factor if scale_factor is not None else n_in / n_out
        src = (scale * (dst + 0.5) - 0.5).clamp(min=0)
    i0 = src.floor().long().clamp(max=n_in - 1)
    i1 = (i0 + 1).clamp(max=n_in - 1)
    return i0, i1, src - i0


def _nearest_taps(n_in, n_out, scale_factor, exact):
    dst = torch.arange(n_out)
    if not exact:
        # torch's nearest special-cases these two sizes, whatever scale_factor says.
        if n_out == n_in:
            return dst
        if n_out == 2 * n_in:
            return dst // 2
    scale = 1.0 / scale_factor if scale_factor is not None else n_in / n_out
    src = (dst + 0.5) * scale if exact else dst * scale
    return src.floor().long().clamp(max=n_in - 1)


def interpolate(x, size=None, scale_factor=None, mode="bilinear", align_corners=None):
    """torch.nn.functional.interpolate for 4-D input, recompute_scale_factor=None, antialias=False."""
    if (size is None) == (scale_factor is None):
        raise ValueError("give exactly one of size and scale_factor")
    if mode not in ("bilinear", "nearest", "nearest-exact"):
        raise ValueError(f"unknown mode {mode!r}")
    if mode != "bilinear" and align_corners is not None:
        raise ValueError("align_corners can only be set for bilinear")
    _, _, h, w = x.shape
    if size is not None:
        out_hw, scales = _pair(size), (None, None)
    else:
        scales = tuple(float(s) for s in _pair(scale_factor))
        out_hw = tuple(math.floor(n * s) for n, s in zip((h, w), scales))
    if mode == "bilinear":
        for axis, (n_in, n_out, s) in enumerate(zip((h, w), out_hw, scales)):
            i0, i1, lam = _linear_taps(n_in, n_out, s, bool(align_corners))
            lam = lam.to(x.dtype)
            shape = (-1, 1) if axis == 0 else (-1,)
            x0 = x.index_select(2 + axis, i0)
            x1 = x.index_select(2 + axis, i1)
            x = x0 * (1 - lam).reshape(shape) + x1 * lam.reshape(shape)
        return x
    rows = _nearest_taps(h, out_hw[0], scales[0], mode == "nearest-exact")
    cols = _nearest_taps(w, out_hw[1], scales[1], mode == "nearest-exact")
    return x.index_select(2, rows).index_select(3, cols)


# ---- transposed convolution (dense) ---------------------------------------------------------------------
def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    """torch's conv_transpose2d, groups = 1: weight (C_in, C_out, kH, kW)."""
    s, p, op, d = (_pair(v) for v in (stride, padding, output_padding, dilation))
    for axis in range(2):
        if not (op[axis] < s[axis] or op[axis] < d[axis]):
            raise ValueError(f"output_padding {op} must be smaller than stride {s} or dilation {d}")
    n, c_in, h, w = x.shape
    _, c_out, kh, kw = weight.shape
    ho = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    wo = (w - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    wt = weight.detach().numpy()
    m = np.zeros((c_out * ho * wo, c_in * h * w), dtype=wt.dtype)
    for c in range(c_in):
        for i in range(h):
            for j in range(w):
                for a in range(kh):
                    for b in range(kw):
                        oi, oj = i * s[0] + a * d[0] - p[0], j * s[1] + b * d[1] - p[1]
                        if 0 <= oi < ho and 0 <= oj < wo:
                            m[np.arange(c_out) * ho * wo + oi * wo + oj, c * h * w + i * w + j] += wt[c, :, a, b]
    out = torch.from_numpy(x.detach().numpy().reshape(n, -1) @ m.T).reshape(n, c_out, ho, wo)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out
