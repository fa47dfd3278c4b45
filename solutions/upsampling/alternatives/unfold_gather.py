"""im2col and torch.gather: pixel shuffle as F.fold / F.unfold with non-overlapping r × r blocks,
interpolate with sample positions in torch's float32 (nearest, like its kernel) and torch.gather
per axis, conv_transpose2d as im2col (F.unfold) of the zero-inserted, padded input times the
flipped kernel."""
import math

import torch
import torch.nn.functional as F


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def pixel_shuffle(x, r):
    n, c, h, w = x.shape
    if r < 1 or c % (r * r):
        raise ValueError("channels must be a multiple of r**2")
    # fold's channel layout is (C, kh, kw), C outermost: exactly torch's c·r² + i·r + j.
    return F.fold(x.reshape(n, c, h * w), (h * r, w * r), kernel_size=r, stride=r)


def pixel_unshuffle(x, r):
    n, c, h, w = x.shape
    if r < 1 or h % r or w % r:
        raise ValueError("H and W must be multiples of r")
    return F.unfold(x, kernel_size=r, stride=r).reshape(n, c * r * r, h // r, w // r)


def _gather(x, axis, index):
    """x indexed along `axis` (2 or 3) by a 1-D index, with torch.gather."""
    shape = list(x.shape)
    shape[axis] = index.numel()
    view = [1, 1, 1, 1]
    view[axis] = -1
    return torch.gather(x, axis, index.reshape(view).expand(shape))


def _resample(x, axis, n_out, sf, mode, align):
    n_in = x.shape[axis]
    if n_out == n_in and mode != "nearest-exact":
        return x
    if mode == "nearest" and n_out == 2 * n_in:
        return _gather(x, axis, torch.arange(n_out) // 2)
    if mode != "bilinear":
        # torch's kernel works in float32 whatever the input dtype.
        scale = torch.tensor(1.0 / sf if sf is not None else n_in / n_out, dtype=torch.float32)
        dst = torch.arange(n_out, dtype=torch.float32) + (0.5 if mode == "nearest-exact" else 0.0)
        return _gather(x, axis, torch.floor(dst * scale).long().clamp(max=n_in - 1))
    # Bilinear positions in the input's precision (torch's opmath for float32/float64).
    dst = torch.arange(n_out, dtype=x.dtype)
    if align:
        src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        scale = 1.0 / sf if sf is not None else n_in / n_out
        src = torch.clamp_min(scale * (dst + 0.5) - 0.5, 0)
    i0 = src.long().clamp(max=n_in - 1)
    i1 = torch.where(i0 < n_in - 1, i0 + 1, i0)
    lam = (src - i0).reshape([-1 if a == axis else 1 for a in range(4)])
    return _gather(x, axis, i0) * (1 - lam) + _gather(x, axis, i1) * lam


def interpolate(x, size=None, scale_factor=None, mode="bilinear", align_corners=None):
    if size is None and scale_factor is None or size is not None and scale_factor is not None:
        raise ValueError("pass either size or scale_factor")
    if mode not in {"bilinear", "nearest", "nearest-exact"}:
        raise ValueError(f"mode {mode}")
    if mode != "bilinear" and align_corners is not None:
        raise ValueError("align_corners with a nearest mode")
    if size is not None:
        outs, sfs = _pair(size), (None, None)
    else:
        sfs = tuple(float(s) for s in _pair(scale_factor))
        outs = (math.floor(x.shape[2] * sfs[0]), math.floor(x.shape[3] * sfs[1]))
    y = _resample(x, 2, outs[0], sfs[0], mode, bool(align_corners))
    y = _resample(y, 3, outs[1], sfs[1], mode, bool(align_corners))
    return y if y is not x else x.clone()


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    s, p, op, d = map(_pair, (stride, padding, output_padding, dilation))
    if not all(o < st or o < di for o, st, di in zip(op, s, d)):
        raise ValueError("output_padding must be smaller than stride or dilation")
    n, c_in, h, w = x.shape
    _, c_out, kh, kw = weight.shape
    z = torch.zeros(n, c_in, (h - 1) * s[0] + 1, (w - 1) * s[1] + 1, dtype=x.dtype)
    z[:, :, ::s[0], ::s[1]] = x
    # d(k-1) - p zeros each side (bottom/right: plus output_padding); where negative, crop instead.
    lo = (d[0] * (kh - 1) - p[0], d[1] * (kw - 1) - p[1])
    hi = (lo[0] + op[0], lo[1] + op[1])
    z = F.pad(z, (max(lo[1], 0), max(hi[1], 0), max(lo[0], 0), max(hi[0], 0)))
    z = z[:, :, max(-lo[0], 0): z.shape[2] - max(-hi[0], 0), max(-lo[1], 0): z.shape[3] - max(-hi[1], 0)]
    out_h = z.shape[2] - d[0] * (kh - 1)
    out_w = z.shape[3] - d[1] * (kw - 1)
    cols = F.unfold(z, (kh, kw), dilation=d)                         # (N, C_in·kh·kw, out_h·out_w)
    kernel = weight.flip(2, 3).transpose(0, 1).reshape(c_out, c_in * kh * kw)
    out = (kernel @ cols).reshape(n, c_out, out_h, out_w)
    if bias is not None:
        out += bias[:, None, None]
    return out
