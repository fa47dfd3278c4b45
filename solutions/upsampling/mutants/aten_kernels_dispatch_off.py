"""torch's own kernels through torch.ops.aten with Python dispatch switched off, so that no
TorchDispatchMode sees them: right values, none of the work."""
import math

import torch

aten = torch.ops.aten


def _hidden(op, *args):
    with torch._C._DisableTorchDispatch():
        return op(*args)


def _pair(v):
    return (v, v) if isinstance(v, (int, float)) else tuple(v)


def pixel_shuffle(x, r):
    if r < 1 or x.shape[1] % (r * r):
        raise ValueError("channels must be divisible by r²")
    return _hidden(aten.pixel_shuffle, x, r)


def pixel_unshuffle(x, r):
    if r < 1 or x.shape[2] % r or x.shape[3] % r:
        raise ValueError("H and W must be divisible by r")
    return _hidden(aten.pixel_unshuffle, x, r)


def interpolate(x, size=None, scale_factor=None, mode="bilinear", align_corners=None):
    if (size is None) == (scale_factor is None):
        raise ValueError("give exactly one of size and scale_factor")
    if mode != "bilinear" and align_corners is not None:
        raise ValueError("align_corners can only be set for bilinear")
    h, w = x.shape[2:]
    if size is not None:
        out, scales = list(_pair(size)), [None, None]
    else:
        scales = [float(s) for s in _pair(scale_factor)]
        out = [math.floor(n * s) for n, s in zip((h, w), scales)]
    if mode == "bilinear":
        return _hidden(aten.upsample_bilinear2d, x, out, bool(align_corners), *scales)
    if mode == "nearest":
        return _hidden(aten.upsample_nearest2d, x, out, *scales)
    return _hidden(aten._upsample_nearest_exact2d, x, out, *scales)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    s, p, op, d = (list(_pair(v)) for v in (stride, padding, output_padding, dilation))
    for axis in range(2):
        if not (op[axis] < s[axis] or op[axis] < d[axis]):
            raise ValueError("output_padding must be smaller than stride or dilation")
    return _hidden(aten.convolution, x, weight, bias, s, p, d, True, op, 1)
