"""The calls the upsampling suite makes, as hypothesis strategies.

A drawn case is a `Call`: the function, its arguments (tensors as seeded recipes) and keyword
arguments, exactly as the attempt receives them. Its repr is that call, so a counterexample reads
as code a learner can run (`randn(shape, seed=s, dtype=d)` is explained in the spec).
"""
from __future__ import annotations

import math
from fractions import Fraction

import torch
import torch.nn.functional as F
from hypothesis import assume, strategies as st

from katas._shared.torch_builders import seeded_tensor, seeds

DTYPES = ("float32", "float64")


class T:
    """A tensor recipe: Normal(0, 1) values from a seed (katas._shared.torch_builders)."""

    def __init__(self, shape, dtype, seed):
        self.shape, self.dtype, self.seed = tuple(shape), dtype, int(seed)

    def build(self):
        return seeded_tensor(self.shape, self.dtype, self.seed)

    def __repr__(self):
        return f"randn({self.shape}, seed={self.seed}, dtype={self.dtype})"


class Call:
    """fn(*args, **kwargs); T arguments are built into tensors."""

    def __init__(self, fn, args, kwargs=None):
        self.fn, self.args, self.kwargs = fn, tuple(args), dict(kwargs or {})

    def build(self):
        build = lambda a: a.build() if isinstance(a, T) else a
        return [build(a) for a in self.args], {key: build(v) for key, v in self.kwargs.items()}

    def with_kwargs(self, **kw):
        return Call(self.fn, self.args, {**self.kwargs, **kw})

    def __repr__(self):
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.fn}({', '.join(parts)})"


def pair(v):
    return (v, v) if isinstance(v, (int, float)) else tuple(v)


def maybe_int(draw, v):
    """Half the time an int instead of an equal pair: both forms must be accepted."""
    return v[0] if v[0] == v[1] and draw(st.booleans()) else v


# ---- pixel shuffle ------------------------------------------------------------------------------
@st.composite
def shuffle_calls(draw):
    r = draw(st.integers(1, 4))
    c, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = T((draw(st.integers(1, 2)), c * r * r, h, w), draw(st.sampled_from(DTYPES)), draw(seeds()))
    return Call("pixel_shuffle", (x, r))


@st.composite
def unshuffle_calls(draw):
    r = draw(st.integers(1, 4))
    c, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = T((draw(st.integers(1, 2)), c, h * r, w * r), draw(st.sampled_from(DTYPES)), draw(seeds()))
    return Call("pixel_unshuffle", (x, r))


@st.composite
def indivisible_calls(draw):
    r = draw(st.integers(2, 4))
    n, dtype, seed = draw(st.integers(1, 2)), draw(st.sampled_from(DTYPES)), draw(seeds())
    if draw(st.booleans()):
        c = draw(st.integers(1, 3 * r * r).filter(lambda c: c % (r * r)))
        return Call("pixel_shuffle", (T((n, c, 2, 3), dtype, seed), r))
    h = draw(st.integers(1, 3)) * r
    w = draw(st.integers(1, 3)) * r
    if draw(st.booleans()):
        h += draw(st.integers(1, r - 1))
    else:
        w += draw(st.integers(1, r - 1))
    return Call("pixel_unshuffle", (T((n, 2, h, w), dtype, seed), r))


# ---- interpolate --------------------------------------------------------------------------------
def torch_indices(n_in, n_out, sf, mode):
    """The source index torch's nearest / nearest-exact picks for each output index of one axis."""
    x = torch.arange(n_in, dtype=torch.float64).reshape(1, 1, 1, n_in)
    kw = {"size": (1, n_out)} if sf is None else {"scale_factor": (1.0, sf)}
    return F.interpolate(x, mode=mode, **kw)[0, 0, 0].long().tolist()


def _candidates(n_in, n_out, sf, offset):
    """Ways a correct attempt may compute floor((dst + offset)·scale): exact rationals (the
    decimal the suite wrote, or the double it became), float64 and float32 arithmetic."""
    scales = [Fraction(n_in, n_out)] if sf is None else [Fraction(str(sf)) ** -1, Fraction(sf) ** -1]
    dst = torch.arange(n_out, dtype=torch.float64) + offset
    floats = [dst * (n_in / n_out), dst * n_in / n_out] if sf is None else [dst * (1.0 / sf), dst / sf]
    scale32 = torch.tensor(n_in / n_out if sf is None else 1.0 / sf, dtype=torch.float32)
    floats.append((torch.arange(n_out, dtype=torch.float32) + offset) * scale32)
    out = [[math.floor((d + Fraction(offset)) * s) for d in range(n_out)] for s in scales]
    out += [f.floor().long().tolist() for f in floats]
    return [[min(i, n_in - 1) for i in c] for c in out]


def quirk(n_in, n_out, sf, mode, align_corners):
    """True where torch's CPU kernels do not follow the formula: with a scale factor, bilinear and
    nearest copy an axis whose size does not change, and nearest maps dst -> dst // 2 when the
    size doubles, whatever the scale factor is (nearest-exact has no such case)."""
    if sf is None or mode == "nearest-exact" or (mode == "bilinear" and align_corners):
        return False
    return (n_out == n_in and sf != 1) or (mode == "nearest" and n_out == 2 * n_in and sf != 2)


def unambiguous(n_in, n_out, sf, mode):
    """True if every reasonable way of computing the nearest source indices agrees with torch
    (a product that lands within rounding of an integer makes the tests leave the case out)."""
    got = torch_indices(n_in, n_out, sf, mode)
    return all(c == got for c in _candidates(n_in, n_out, sf, 0.5 if mode == "nearest-exact" else 0))


def scale_factors(n_in):
    """Scale factors, down and up, decimal or exact, that give an output size ≥ 1 for n_in."""
    lo = math.ceil(100 / n_in)   # floor(n_in·s) ≥ 1
    return st.one_of(st.integers(max(lo, 10), 400).map(lambda v: v / 100),
                     st.sampled_from([s for s in (0.5, 1.5, 2.0, 2.5, 3.0, 4.0) if n_in * s >= 1]),
                     st.integers(1, 3))


@st.composite
def interp_calls(draw, mode, by, keep_axis=False, max_side=12):
    """interpolate(x, size=... | scale_factor=..., mode=..., [align_corners=...]).

    keep_axis=True gives one axis a scale factor s != 1 with floor(n·s) = n (or 2n for nearest):
    where bilinear and nearest do not follow the formula (see `quirk`) and nearest-exact does.
    Otherwise those quirky axes are left out."""
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    x = T((draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w), draw(st.sampled_from(DTYPES)),
          draw(seeds()))
    align = draw(st.sampled_from([None, False, True])) if mode == "bilinear" else None
    if by == "size":
        outs, sfs = (draw(st.integers(1, 2 * max_side)), draw(st.integers(1, 2 * max_side))), (None, None)
        kw = {"size": maybe_int(draw, outs)}
    else:
        sfs = [draw(scale_factors(h)), draw(scale_factors(w))]
        if keep_axis:
            align = None if align else align
            axis = draw(st.integers(0, 1))
            target = draw(st.sampled_from([1, 2] if mode == "nearest" else [1]))  # bilinear: 1
            # s = target + f/n with 0 < f < 1: floor(n·s) = target·n although s != target.
            sfs[axis] = round(target + draw(st.integers(1, 99)) / (100 * (h, w)[axis]), 6)
        outs = tuple(math.floor(n * s) for n, s in zip((h, w), sfs))
        kw = {"scale_factor": maybe_int(draw, tuple(sfs))}
    odd = [quirk(n, o, s, mode, align) for n, o, s in zip((h, w), outs, sfs)]
    if keep_axis and mode != "nearest-exact":
        assume(any(odd))
    elif not keep_axis:
        assume(not any(odd))
    if mode != "bilinear":
        assume(all(odd[i] or unambiguous(n, o, s, mode)
                   for i, (n, o, s) in enumerate(zip((h, w), outs, sfs))))
    kw["mode"] = mode
    if mode == "bilinear":
        kw["align_corners"] = align
    return Call("interpolate", (x,), kw)


# ---- transposed convolution ---------------------------------------------------------------------
def conv_transpose_size(n, s, p, op, d, k):
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def _keywords(draw, values, defaults):
    """Keyword arguments in the order of the signature; a default is sometimes left out."""
    kw = {}
    for name, v in values.items():
        if v != defaults[name] or draw(st.booleans()):
            kw[name] = maybe_int(draw, v) if isinstance(v, tuple) else v
    return kw


_CONV_DEFAULTS = {"bias": None, "stride": (1, 1), "padding": (0, 0), "output_padding": (0, 0),
                  "dilation": (1, 1)}


@st.composite
def conv_calls(draw, output_padding=False, max_side=6):
    """conv_transpose2d(x, weight, ...) with an output of at least 1 × 1. output_padding=True:
    some axis has output_padding > 0 (sometimes ≥ stride, allowed because < dilation)."""
    dtype, n = draw(st.sampled_from(DTYPES)), draw(st.integers(1, 2))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if output_padding:
        axis = draw(st.integers(0, 1))
        if max(s[axis], d[axis]) < 2:
            s = tuple(2 if i == axis else v for i, v in enumerate(s))
    op = tuple(draw(st.integers(0, max(si, di) - 1)) if output_padding else 0 for si, di in zip(s, d))
    if output_padding and not any(op):
        op = tuple(max(s[i], d[i]) - 1 if i == axis else v for i, v in enumerate(op))
    # Padding up to d(k - 1) + 2: beyond d(k - 1) the equivalent convolution crops.
    p = tuple(draw(st.integers(0, di * (ki - 1) + 2)) for di, ki in zip(d, k))
    hw = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    assume(all(conv_transpose_size(*a) >= 1 for a in zip(hw, s, p, op, d, k)))
    seed = draw(seeds())
    x = T((n, c_in) + hw, dtype, seed)
    weight = T((c_in, c_out) + k, dtype, seed + 1)
    bias = T((c_out,), dtype, seed + 2) if draw(st.booleans()) else None
    kw = _keywords(draw, {"bias": bias, "stride": s, "padding": p, "output_padding": op, "dilation": d},
                   _CONV_DEFAULTS)
    return Call("conv_transpose2d", (x, weight), kw)


@st.composite
def bad_output_padding_calls(draw):
    """output_padding ≥ stride and ≥ dilation on one axis (torch refuses it)."""
    axis = draw(st.integers(0, 1))
    s = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    d = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    op = [draw(st.integers(0, max(s[i], d[i]) - 1)) for i in range(2)]
    op[axis] = max(s[axis], d[axis]) + draw(st.integers(0, 1))
    dtype, seed = draw(st.sampled_from(DTYPES)), draw(seeds())
    kw = {"stride": maybe_int(draw, tuple(s)), "padding": 0, "output_padding": maybe_int(draw, tuple(op)),
          "dilation": maybe_int(draw, tuple(d))}
    return Call("conv_transpose2d", (T((1, 2, 3, 4), dtype, seed), T((2, 2, 3, 2), dtype, seed + 1)), kw)


@st.composite
def adjoint_cases(draw, max_side=8):
    """{"call": conv_transpose2d(y, W, ...), "x": x}: y has conv2d(x, W, stride, padding, dilation)'s
    shape and output_padding makes the transposed convolution's output x's shape."""
    n, cx, cy = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = tuple(draw(st.integers(0, 2)) for _ in range(2))
    hw = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    reach = [di * (ki - 1) + 1 for di, ki in zip(d, k)]
    assume(all(h + 2 * pi >= r for h, pi, r in zip(hw, p, reach)))
    out = tuple((h + 2 * pi - r) // si + 1 for h, pi, r, si in zip(hw, p, reach, s))
    op = tuple((h + 2 * pi - r) % si for h, pi, r, si in zip(hw, p, reach, s))
    seed = draw(seeds())
    call = Call("conv_transpose2d", (T((n, cy) + out, "float64", seed + 2), T((cy, cx) + k, "float64", seed + 1)),
                {"stride": s, "padding": p, "output_padding": op, "dilation": d})
    return {"call": call, "x": T((n, cx) + hw, "float64", seed)}
