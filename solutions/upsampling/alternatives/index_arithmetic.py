"""Index arithmetic and scatter-add: integer index maps gathered with advanced indexing, a 2-D
four-corner bilinear gather, integer nearest indices, and conv_transpose2d as an explicit
scatter-add of every kernel tap into a canvas, then cropped."""
import math

import torch


def _two(v):
    return (v, v) if isinstance(v, (int, float)) else (v[0], v[1])


def pixel_shuffle(x, r):
    n, c, h, w = x.shape
    if r < 1 or c % (r * r) != 0:
        raise ValueError("pixel_shuffle needs channels divisible by r*r")
    rows = torch.arange(h * r)[:, None]
    cols = torch.arange(w * r)[None, :]
    chan = torch.arange(c // (r * r))[:, None, None] * r * r + (rows % r) * r + cols % r
    return x[:, chan, rows // r, cols // r]


def pixel_unshuffle(x, r):
    n, c, h, w = x.shape
    if r < 1 or h % r != 0 or w % r != 0:
        raise ValueError("pixel_unshuffle needs H and W divisible by r")
    k = torch.arange(c * r * r)[:, None, None]
    i, j = (k % (r * r)) // r, k % r
    rows = torch.arange(h // r)[:, None] * r + i
    cols = torch.arange(w // r)[None, :] * r + j
    return x[:, k // (r * r), rows, cols]


def _linear(n_in, n_out, sf, align):
    """Python floats: (i0, i1, lam) lists for one axis."""
    if n_out == n_in:
        return list(range(n_out)), list(range(n_out)), [0.0] * n_out
    i0s, i1s, lams = [], [], []
    for dst in range(n_out):
        if align:
            src = dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            src = (dst + 0.5) / sf - 0.5 if sf is not None else (dst + 0.5) * n_in / n_out - 0.5
            src = max(src, 0.0)
        i0 = min(int(src), n_in - 1)
        i0s.append(i0)
        i1s.append(min(i0 + 1, n_in - 1))
        lams.append(src - i0)
    return i0s, i1s, lams


def _nearest(n_in, n_out, sf, exact):
    if not exact and n_out in (n_in, 2 * n_in):
        return [d * n_in // n_out for d in range(n_out)]      # copy, or dst // 2
    out = []
    for d in range(n_out):
        if sf is None:    # exact integer arithmetic: floor(d·in/out), floor((2d + 1)·in/(2·out))
            i = (2 * d + 1) * n_in // (2 * n_out) if exact else d * n_in // n_out
        else:
            i = math.floor((d + 0.5) / sf) if exact else math.floor(d / sf)
        out.append(min(i, n_in - 1))
    return out


def interpolate(x, size=None, scale_factor=None, mode="bilinear", align_corners=None):
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size and scale_factor")
    if size is None and scale_factor is None:
        raise ValueError("size or scale_factor is required")
    if mode in ("nearest", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners is only for bilinear")
    elif mode != "bilinear":
        raise ValueError("unsupported mode")
    h, w = x.shape[-2:]
    if size is None:
        sh, sw = (float(s) for s in _two(scale_factor))
        oh, ow = int(math.floor(h * sh)), int(math.floor(w * sw))
    else:
        (oh, ow), sh, sw = _two(size), None, None
    if mode != "bilinear":
        rows = torch.tensor(_nearest(h, oh, sh, mode == "nearest-exact"))
        cols = torch.tensor(_nearest(w, ow, sw, mode == "nearest-exact"))
        return x[:, :, rows[:, None], cols[None, :]]
    a0, a1, la = _linear(h, oh, sh, bool(align_corners))
    b0, b1, lb = _linear(w, ow, sw, bool(align_corners))
    a0, a1, b0, b1 = (torch.tensor(v) for v in (a0, a1, b0, b1))
    la = torch.tensor(la, dtype=x.dtype)[:, None]
    lb = torch.tensor(lb, dtype=x.dtype)[None, :]
    top = x[:, :, a0[:, None], b0[None, :]] * (1 - lb) + x[:, :, a0[:, None], b1[None, :]] * lb
    bottom = x[:, :, a1[:, None], b0[None, :]] * (1 - lb) + x[:, :, a1[:, None], b1[None, :]] * lb
    return top * (1 - la) + bottom * la


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = (_two(v) for v in (stride, padding, output_padding, dilation))
    if (oph >= sh and oph >= dh) or (opw >= sw and opw >= dw):
        raise ValueError("output padding must be smaller than either stride or dilation")
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1:]
    out_h = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    out_w = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    # The canvas holds every tap before cropping `padding` from the top/left; it is also tall
    # enough for the output_padding rows below the last tap.
    canvas = x.new_zeros(n, c_out, max((h - 1) * sh + dh * (kh - 1) + 1, ph + out_h),
                         max((w - 1) * sw + dw * (kw - 1) + 1, pw + out_w))
    for a in range(kh):
        for b in range(kw):
            tap = torch.einsum("nchw,co->nohw", x, weight[:, :, a, b])
            canvas[:, :, a * dh: a * dh + (h - 1) * sh + 1: sh, b * dw: b * dw + (w - 1) * sw + 1: sw] += tap
    out = canvas[:, :, ph: ph + out_h, pw: pw + out_w]
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out.contiguous()
