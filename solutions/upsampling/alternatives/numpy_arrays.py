"""numpy: every function computed on numpy arrays (reshape/transpose, np.take with float64 index
arithmetic, a per-tap scatter with np.einsum) and handed back with torch.from_numpy."""
import math

import numpy as np
import torch


def _pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def _np(t):
    return t.detach().cpu().numpy()


def pixel_shuffle(x, r):
    n, c, h, w = x.shape
    if r < 1 or c % (r * r):
        raise ValueError("channels must be divisible by r * r")
    a = _np(x).reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3)
    return torch.from_numpy(np.ascontiguousarray(a).reshape(n, c // (r * r), h * r, w * r))


def pixel_unshuffle(x, r):
    n, c, h, w = x.shape
    if r < 1 or h % r or w % r:
        raise ValueError("H and W must be divisible by r")
    a = _np(x).reshape(n, c, h // r, r, w // r, r).transpose(0, 1, 3, 5, 2, 4)
    return torch.from_numpy(np.ascontiguousarray(a).reshape(n, c * r * r, h // r, w // r))


def _step(n_in, n_out, sf):
    """Source distance between neighbouring outputs: 1/scale_factor as given, else in/out."""
    return 1 / sf if sf else n_in / n_out


def _nearest(a, axis, n_out, sf, align):
    n_in = a.shape[axis]
    dst = np.arange(n_out, dtype=np.float64)
    idx = dst.astype(np.int64) // 2 if n_out == 2 * n_in else np.floor(dst * _step(n_in, n_out, sf))
    return np.take(a, np.minimum(idx.astype(np.int64), n_in - 1), axis=axis)


def _nearest_exact(a, axis, n_out, sf, align):
    n_in = a.shape[axis]
    idx = np.floor((np.arange(n_out, dtype=np.float64) + 0.5) * _step(n_in, n_out, sf)).astype(np.int64)
    return np.take(a, np.minimum(idx, n_in - 1), axis=axis)


def _bilinear(a, axis, n_out, sf, align):
    n_in = a.shape[axis]
    dst = np.arange(n_out, dtype=np.float64)
    if align:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * _step(n_in, n_out, sf) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    shape = [1] * a.ndim
    shape[axis] = n_out
    lam = (src - i0).astype(a.dtype).reshape(shape)
    return np.take(a, i0, axis=axis) * (1 - lam) + np.take(a, i1, axis=axis) * lam


# By mode: f(a, axis, n_out, scale_factor, align_corners) resamples that axis of a to n_out.
_RESAMPLE = {"nearest": _nearest, "nearest-exact": _nearest_exact, "bilinear": _bilinear}


def interpolate(x, size=None, scale_factor=None, mode="bilinear", align_corners=None):
    if (size is None) == (scale_factor is None):
        raise ValueError("exactly one of size and scale_factor")
    if mode not in _RESAMPLE:
        raise ValueError(f"mode {mode!r} is not supported")
    if mode != "bilinear" and align_corners is not None:
        raise ValueError("align_corners is for bilinear only")
    a = _np(x)
    if size is None:
        sfs = [float(s) for s in _pair(scale_factor)]
        outs = [math.floor(n * s) for n, s in zip(a.shape[2:], sfs)]
    else:
        outs, sfs = list(_pair(size)), [None, None]
    for axis, n_out, sf in zip((2, 3), outs, sfs):
        # torch copies an axis whose size does not change, whatever scale_factor says (except
        # in nearest-exact mode).
        if n_out != a.shape[axis] or mode == "nearest-exact":
            a = _RESAMPLE[mode](a, axis, n_out, sf, bool(align_corners))
    return torch.from_numpy(np.array(a, dtype=a.dtype, copy=True))


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    s, p, op, d = (_pair(v) for v in (stride, padding, output_padding, dilation))
    if any(o >= st and o >= di for o, st, di in zip(op, s, d)):
        raise ValueError("output_padding must be smaller than stride or dilation")
    a, k = _np(x), _np(weight)
    n, _, h, w = a.shape
    _, c_out, kh, kw = k.shape
    out_h = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    out_w = (w - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    full_h = max((h - 1) * s[0] + d[0] * (kh - 1) + 1, p[0] + out_h)
    full_w = max((w - 1) * s[1] + d[1] * (kw - 1) + 1, p[1] + out_w)
    canvas = np.zeros((n, c_out, full_h, full_w), dtype=a.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * d[0], i * d[0] + (h - 1) * s[0] + 1, s[0])
            cols = slice(j * d[1], j * d[1] + (w - 1) * s[1] + 1, s[1])
            canvas[:, :, rows, cols] += np.einsum("nchw,co->nohw", a, k[:, :, i, j])
    out = canvas[:, :, p[0]:p[0] + out_h, p[1]:p[1] + out_w]
    if bias is not None:
        out = out + _np(bias)[None, :, None, None]
    return torch.from_numpy(np.ascontiguousarray(out))
