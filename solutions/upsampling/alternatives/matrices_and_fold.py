"""Matrices and col2im: pixel shuffle by strided slice assignment, interpolate as one small
(out × in) matrix per axis applied with einsum, conv_transpose2d as a matmul with the kernel
followed by F.fold (col2im, the scatter-add of every tap) and a crop."""
import math

import torch
import torch.nn.functional as F


def _as_pair(v):
    if isinstance(v, (tuple, list)):
        return tuple(v)
    return (v, v)


def pixel_shuffle(x, r):
    n, c, h, w = x.shape
    if r <= 0 or c % (r * r):
        raise ValueError(f"cannot pixel_shuffle {c} channels by {r}")
    out = x.new_empty(n, c // (r * r), h * r, w * r)
    for i in range(r):
        for j in range(r):
            # channels i·r + j, i·r + j + r², ... are sub-pixel (i, j) of channels 0, 1, ...
            out[:, :, i::r, j::r] = x[:, i * r + j::r * r]
    return out


def pixel_unshuffle(x, r):
    n, c, h, w = x.shape
    if r <= 0 or h % r or w % r:
        raise ValueError(f"cannot pixel_unshuffle {h}x{w} by {r}")
    out = x.new_empty(n, c * r * r, h // r, w // r)
    for i in range(r):
        for j in range(r):
            out[:, i * r + j::r * r] = x[:, :, i::r, j::r]
    return out


def _axis_matrix(n_in, n_out, sf, mode, align, dtype):
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    cols = torch.arange(n_in, dtype=torch.float64)
    for d in range(n_out):
        if (n_out == n_in and mode != "nearest-exact") or (mode == "nearest" and n_out == 2 * n_in):
            m[d, d * n_in // n_out] = 1.0
            continue
        if mode == "bilinear" and align:
            src = d * ((n_in - 1) / (n_out - 1)) if n_out > 1 else 0.0
        else:
            scale = 1.0 / sf if sf else n_in / n_out
            if mode == "nearest":
                m[d, min(int(math.floor(d * scale)), n_in - 1)] = 1.0
                continue
            if mode == "nearest-exact":
                m[d, min(int(math.floor((d + 0.5) * scale)), n_in - 1)] = 1.0
                continue
            src = max(scale * (d + 0.5) - 0.5, 0.0)
        # Row d is the tent max(0, 1 - |j - src|): the two nearest inputs, weighted by distance.
        # Past the last input torch repeats it, which is the tent at n_in - 1.
        m[d] = (1.0 - (cols - min(src, n_in - 1)).abs()).clamp(min=0.0)
    return m.to(dtype)


def interpolate(x, size=None, scale_factor=None, mode="bilinear", align_corners=None):
    if (size is None) == (scale_factor is None):
        raise ValueError("exactly one of size or scale_factor must be given")
    if mode not in ("bilinear", "nearest", "nearest-exact"):
        raise ValueError(mode)
    if align_corners is not None and mode != "bilinear":
        raise ValueError("align_corners needs mode='bilinear'")
    h, w = x.shape[2], x.shape[3]
    if size is not None:
        oh, ow = _as_pair(size)
        sh = sw = None
    else:
        sh, sw = _as_pair(scale_factor)
        oh, ow = math.floor(h * float(sh)), math.floor(w * float(sw))
    mh = _axis_matrix(h, oh, sh, mode, align_corners, x.dtype)
    mw = _axis_matrix(w, ow, sw, mode, align_corners, x.dtype)
    return torch.einsum("oh,nchw,pw->ncop", mh, x, mw)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    s, p, op, d = (_as_pair(v) for v in (stride, padding, output_padding, dilation))
    for i in (0, 1):
        if op[i] >= s[i] and op[i] >= d[i]:
            raise ValueError(f"output_padding {op} must be smaller than stride {s} or dilation {d}")
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
    # One column per input pixel: what it contributes at each of the kernel's taps.
    cols = weight.reshape(c_in, c_out * kh * kw).t() @ x.reshape(n, c_in, h * w)
    full = ((h - 1) * s[0] + d[0] * (kh - 1) + 1, (w - 1) * s[1] + d[1] * (kw - 1) + 1)
    canvas = F.fold(cols, full, (kh, kw), dilation=d, stride=s)
    out_h = full[0] - 2 * p[0] + op[0]
    out_w = full[1] - 2 * p[1] + op[1]
    # Crop the padding off the top/left; output_padding may reach below the canvas: zeros there.
    canvas = F.pad(canvas, (0, max(0, p[1] + out_w - full[1]), 0, max(0, p[0] + out_h - full[0])))
    out = canvas[:, :, p[0]:p[0] + out_h, p[1]:p[1] + out_w]
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
