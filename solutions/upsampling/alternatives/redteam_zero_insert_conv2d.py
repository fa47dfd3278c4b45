"""Zero-insertion + flipped-kernel conv2d, separable per-axis interpolation matrices, advanced-index shuffles."""
import math
import torch
import torch.nn.functional as F


def _shuffle_index(c, h, w, r):
    cc = torch.arange(c).reshape(c, 1, 1)
    hh = torch.arange(h * r).reshape(1, h * r, 1)
    ww = torch.arange(w * r).reshape(1, 1, w * r)
    return cc * r * r + (hh % r) * r + (ww % r), hh // r, ww // r


def pixel_shuffle(x, r):
    n, c, h, w = x.shape
    if c % (r * r) != 0:
        raise ValueError("C not divisible by r*r")
    ci, hi, wi = _shuffle_index(c // (r * r), h, w, r)
    return x[:, ci, hi, wi]


def pixel_unshuffle(x, r):
    n, c, h, w = x.shape
    if h % r != 0 or w % r != 0:
        raise ValueError("H or W not divisible by r")
    ci, hi, wi = _shuffle_index(c, h // r, w // r, r)
    out = x.new_empty(n, c * r * r, h // r, w // r)
    out[:, ci, hi, wi] = x
    return out


def _matrix(n_in, n_out, sf, mode, ac, dtype):
    """(n_out, n_in) one-axis interpolation matrix."""
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    for dst in range(n_out):
        if n_out == n_in and mode != "nearest-exact":
            m[dst, dst] = 1.0
            continue
        if mode == "nearest" and n_out == 2 * n_in:
            m[dst, dst // 2] = 1.0
            continue
        if mode == "bilinear" and ac:
            scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        elif sf is not None:
            scale = 1.0 / sf
        else:
            scale = n_in / n_out
        if mode == "nearest":
            m[dst, min(math.floor(dst * scale), n_in - 1)] = 1.0
        elif mode == "nearest-exact":
            m[dst, min(math.floor((dst + 0.5) * scale), n_in - 1)] = 1.0
        else:
            src = scale * dst if ac else max(scale * (dst + 0.5) - 0.5, 0.0)
            i0 = min(math.floor(src), n_in - 1)
            i1 = min(i0 + 1, n_in - 1)
            lam = src - i0
            m[dst, i0] += 1 - lam
            m[dst, i1] += lam
    return m.to(dtype)


def interpolate(x, size=None, scale_factor=None, mode="bilinear", align_corners=None):
    if size is not None and scale_factor is not None:
        raise ValueError("both size and scale_factor")
    if size is None and scale_factor is None:
        raise ValueError("neither size nor scale_factor")
    if mode not in {"bilinear", "nearest", "nearest-exact"}:
        raise ValueError(f"unknown mode {mode}")
    if mode != "bilinear" and align_corners is not None:
        raise ValueError("align_corners is for bilinear only")
    ac = bool(align_corners)
    _, _, h, w = x.shape
    if size is not None:
        oh, ow = (size, size) if isinstance(size, int) else size
        sh = sw = None
    else:
        sh, sw = (scale_factor, scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        oh, ow = math.floor(h * sh), math.floor(w * sw)
    mh = _matrix(h, oh, sh, mode, ac, x.dtype)
    mw = _matrix(w, ow, sw, mode, ac, x.dtype)
    if mode != "bilinear":   # copies must be exact: gather rather than multiply
        return x[:, :, mh.argmax(1)][:, :, :, mw.argmax(1)]
    y = torch.einsum("oh,nchw->ncow", mh, x)
    return torch.einsum("pw,ncow->ncop", mw, y)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    pair = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = map(pair, (stride, padding, output_padding, dilation))
    if (oph >= sh and oph >= dh) or (opw >= sw and opw >= dw):
        raise ValueError("output_padding too large")
    n, cin, h, w = x.shape
    _, cout, kh, kw = weight.shape
    z = x.new_zeros(n, cin, (h - 1) * sh + 1, (w - 1) * sw + 1)
    z[:, :, ::sh, ::sw] = x
    eh, ew = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    z = F.pad(z, (ew, ew + opw, eh, eh + oph))
    k = weight.transpose(0, 1).flip(2, 3)
    return F.conv2d(z, k, bias, stride=1, dilation=(dh, dw))
