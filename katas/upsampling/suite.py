"""Hidden suite for upsampling: pixel (un)shuffle, interpolate, conv_transpose2d.

Expected values are torch's own functions, called here in the checker on the tensors the attempt
received (never the reference's code), plus two properties torch does not need to be asked
about: the round trip of the pixel shuffles and the adjoint identity of the transposed
convolution. Every attempt call runs under the harness's operator recorder, which reports torch's
own upsampling kernels however they were reached.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from checker.suite import expect, fail, prop
from katas._shared.numeric import check_close
from katas._shared.readings import expect_tensors_within
from katas.upsampling.cases import (T, Call, adjoint_cases, bad_output_padding_calls, conv_calls,
                                    indivisible_calls, interp_calls, pair, shuffle_calls,
                                    unshuffle_calls)

torch.set_num_threads(1)  # small tensors; threads only contend on a busy machine

# ---- tolerances -----------------------------------------------------------------------------
# Errors are measured against a natural magnitude of each result (`magnitude`), so one number
# fits every shape. Bilinear outputs are convex mixes of ≤ 4 inputs (|out| ≤ max|x|); float64
# attempts land within ~1e-14 of torch's float64 kernel (other summation orders, src computed as
# (dst + 0.5)/s or (dst + 0.5)·(1/s)); 1e-12 leaves room and fails any float32 round trip (~1e-8).
# float32: torch computes the sample position src in float32; a float64 src differs by up to
# ~2 ulp of src, which moves the output by that times |x1 − x0| ≤ 2·max|x| (4e-6·max|x| at
# sides of 40; the suite's sides are ≤ 24).
# Transposed convolution: sums of ≤ C_in·kH·kW = 48 products, measured against the sum of their
# magnitudes; float64 error ≤ 48·1.1e-16 ≈ 5e-15 of it, float32 ≤ 48·6e-8 ≈ 3e-6 (any order,
# mkldnn's blocked sums included).
# Measured over 800 of the suite's own cases, for the reference and the three alternatives:
# worst bilinear 1.2e-6 (float32) / 2.9e-15 (float64), worst conv 1.2e-7 / 2.4e-16 — ≥ 25×
# under the tolerances. Every mistake the mutants make moves results by ≥ 1e-2.
TOL = {"float64": 1e-12, "float32": 3e-5}
EXACT = "bit for bit"


def run(k, call: Call, probes=()):
    """The attempt's call (through the harness's recorder); fails if it used torch's kernels."""
    args, kwargs = call.build()
    got = k.harness("watched", call.fn, *args, probes=list(probes), **kwargs).value
    if got["kernels"]:
        fail(f"{call.fn} ran torch's own kernel ({', '.join(got['kernels'])}), which is forbidden in "
             "this kata: write it with indexing, arithmetic, F.pad, F.conv2d or F.unfold/F.fold",
             expected="no upsample / pixel_shuffle / transposed-convolution kernel", got=got["kernels"])
    if not got["intact"]:
        fail(f"{call.fn} removed the suite's operator recorder (a dispatch mode) during the call; "
             "the call cannot be judged", expected="the recorder left in place", got="removed")
    return got["value"], got["probes"], args, kwargs


def expected_of(call: Call, args, kwargs):
    fn = {"pixel_shuffle": F.pixel_shuffle, "pixel_unshuffle": F.pixel_unshuffle,
          "interpolate": F.interpolate, "conv_transpose2d": F.conv_transpose2d}[call.fn]
    with torch.no_grad():
        return fn(*args, **kwargs)


def magnitude(call: Call, args, kwargs):
    """max|x| for interpolation; for conv_transpose2d the largest sum of |products| (+ |bias|)."""
    x = args[0]
    if call.fn != "conv_transpose2d":
        return max(float(x.abs().max()), 1e-30)
    b = kwargs.get("bias")
    kw = {key: v for key, v in kwargs.items() if key != "bias"}
    with torch.no_grad():
        bound = F.conv_transpose2d(x.double().abs(), args[1].double().abs(), **kw)
    return float(bound.max()) + (float(b.abs().max()) if b is not None else 0.0) + 1e-30


def check_result(call: Call, got, args, kwargs, exact=False):
    expected = expected_of(call, args, kwargs)
    expect(isinstance(got, torch.Tensor), f"{call.fn} must return a tensor", got=type(got).__name__)
    expect(tuple(got.shape) == tuple(expected.shape), f"{call.fn} returned the wrong shape",
           expected=tuple(expected.shape), got=tuple(got.shape))
    expect(got.dtype == expected.dtype, f"{call.fn} must return its input's dtype",
           expected=str(expected.dtype), got=str(got.dtype))
    if exact:
        check_close(got, expected, rtol=0, atol=0, what=f"{call.fn} ({EXACT}, a permutation or copy)")
        return
    tol = TOL[str(expected.dtype).replace("torch.", "")]
    check_close(got, expected, rtol=tol, atol=tol * magnitude(call, args, kwargs),
                what=f"{call.fn} vs torch's")


def check_call(k, call: Call, exact=False):
    got, _, args, kwargs = run(k, call)
    check_result(call, got, args, kwargs, exact)


# ---- pixel shuffle ----------------------------------------------------------------------------
@prop(weight=3, given={"call": shuffle_calls()}, examples=15)
def pixel_shuffle_exact(k, call):
    """pixel_shuffle equals torch's bit for bit: out[n, c, h·r+i, w·r+j] = x[n, c·r²+i·r+j, h, w]."""
    check_call(k, call, exact=True)


@prop(weight=2, given={"call": unshuffle_calls()}, examples=12)
def pixel_unshuffle_exact(k, call):
    """pixel_unshuffle equals torch's bit for bit (the inverse channel layout)."""
    check_call(k, call, exact=True)


@prop(weight=1, given={"call": shuffle_calls()}, examples=8)
def pixel_round_trip(k, call):
    """pixel_unshuffle(pixel_shuffle(x, r), r) and pixel_shuffle(pixel_unshuffle(y, r), r) give the input back."""
    (x, r), _ = call.build()
    y = run(k, Call("pixel_shuffle", (x, r)))[0]
    expect(isinstance(y, torch.Tensor), "pixel_shuffle must return a tensor", got=type(y).__name__)
    back = run(k, Call("pixel_unshuffle", (y, r)))[0]
    check_close(back, x, rtol=0, atol=0, what=f"pixel_unshuffle(pixel_shuffle(x, {r}), {r})")
    z = F.pixel_shuffle(x, r)
    again = run(k, Call("pixel_shuffle", (run(k, Call("pixel_unshuffle", (z, r)))[0], r)))[0]
    check_close(again, z, rtol=0, atol=0, what=f"pixel_shuffle(pixel_unshuffle(y, {r}), {r})")


@prop(weight=1, given={"call": indivisible_calls()}, examples=8)
def pixel_rejects_indivisible(k, call):
    """ValueError when C is not divisible by r² (shuffle) or H or W by r (unshuffle)."""
    args, kwargs = call.build()
    with k.raises("ValueError", f"{call!r} must raise ValueError"):
        k.invoke(call.fn, *args, **kwargs)


# ---- interpolate ------------------------------------------------------------------------------
@prop(weight=3, given={"call": interp_calls("bilinear", "size")}, examples=20)
def bilinear_size(k, call):
    """Bilinear with a size equals torch's: align_corners None/False/True, up and down, non-square, out = 1."""
    check_call(k, call)


@prop(weight=3, given={"call": interp_calls("bilinear", "scale")}, examples=20)
def bilinear_scale_factor(k, call):
    """Bilinear with a scale_factor s: size floor(in·s), samples at 1/s (align_corners=False) or (in−1)/(out−1)."""
    check_call(k, call)


@prop(weight=2, given={"call": st.one_of(interp_calls("nearest", "size"), interp_calls("nearest", "scale"))},
      examples=20)
def nearest(k, call):
    """mode="nearest": src = min(floor(dst·scale), in − 1), bit for bit, with a size or a scale_factor."""
    check_call(k, call, exact=True)


@prop(weight=2, given={"call": st.one_of(interp_calls("nearest-exact", "size"),
                                         interp_calls("nearest-exact", "scale"),
                                         interp_calls("nearest-exact", "scale", keep_axis=True))},
      examples=20)
def nearest_exact(k, call):
    """mode="nearest-exact": src = min(floor((dst + 0.5)·scale), in − 1), bit for bit, also where out = in."""
    check_call(k, call, exact=True)


@prop(weight=1, given={"call": st.one_of(interp_calls("bilinear", "scale", keep_axis=True),
                                         interp_calls("nearest", "scale", keep_axis=True))}, examples=15)
def unchanged_axis(k, call):
    """Bilinear and nearest with a scale_factor copy an axis whose size stays the same; nearest maps dst to dst // 2 when it doubles."""
    check_call(k, call, exact=call.kwargs["mode"] != "bilinear")


@st.composite
def rejected_interpolations(draw):
    x = T((1, 1, draw(st.integers(1, 4)), draw(st.integers(1, 4))), "float64", draw(st.integers(0, 9)))
    which = draw(st.sampled_from(["both", "neither", "align_nearest"]))
    if which == "both":
        kw = {"size": (2, 3), "scale_factor": 2.0, "mode": draw(st.sampled_from(["bilinear", "nearest"]))}
    elif which == "neither":
        kw = {"mode": draw(st.sampled_from(["bilinear", "nearest", "nearest-exact"]))}
    else:
        kw = {"size": (3, 2), "mode": draw(st.sampled_from(["nearest", "nearest-exact"])),
              "align_corners": draw(st.booleans())}
    return Call("interpolate", (x,), kw)


@prop(weight=1, given={"call": rejected_interpolations()}, examples=8)
def interpolate_rejects(k, call):
    """ValueError for both or neither of size and scale_factor, and for align_corners with a nearest mode."""
    args, kwargs = call.build()
    with k.raises("ValueError", f"{call!r} must raise ValueError"):
        k.invoke(call.fn, *args, **kwargs)


# Memory is read twice: the largest tensor any torch operator made (tensor_sizes), and the bytes
# really resident at the peak of the call, whichever library allocated them (peak_memory: numpy
# buffers and a matrix handed to torch as an operator's input included). The allowance is in
# elements; in bytes it is as many float64s plus 4 MiB for torch's and Python's own workspace
# (correct attempts peak at ≤ 0.4 MB here, the dense maps at ≥ 19 MB).
MEMORY_PROBES = ["tensor_sizes", "peak_memory"]
BYTES_SLACK = 4 * 1024 * 1024


def check_memory(call, readings, limit, why):
    sizes, peak = readings["tensor_sizes"], readings["peak_memory"]["peak_bytes"]
    expect_tensors_within(sizes, limit, f"{call!r} made a tensor {why}")
    expect(peak <= 8 * limit + BYTES_SLACK, f"{call!r} held too much memory at once (torch, numpy or "
           f"Python): it allocated something {why}", expected=f"peak ≤ {8 * limit + BYTES_SLACK} bytes",
           got=f"{peak} bytes")


# 48 × 48 planes: the whole linear map of one plane (out_h·out_w × 48·48, ~10^7 elements, 40 MB
# in float32) is ~120× the element allowance below and ~8× the byte allowance; any gather, index
# or per-axis-matrix method stays far under both.
_BIG = T((1, 2, 48, 48), "float32", 3)
_BIG_CALLS = [Call("interpolate", (_BIG,), {"scale_factor": (1.5, 1.25), "mode": "bilinear"}),
              Call("interpolate", (_BIG,), {"size": (60, 72), "mode": "nearest-exact"})]


@prop(weight=2)
def interpolate_memory(k):
    """48 × 48 planes: no tensor or buffer near the size of the whole (out_h·out_w) × (in_h·in_w) interpolation matrix."""
    for call in _BIG_CALLS:
        got, readings, args, kwargs = run(k, call, probes=MEMORY_PROBES)
        check_result(call, got, args, kwargs, exact=call.kwargs["mode"] != "bilinear")
        x, out = args[0], got
        h, w, oh, ow = x.shape[2], x.shape[3], out.shape[2], out.shape[3]
        check_memory(call, readings, 8 * max(x.numel(), out.numel()) + 2 * (oh * h + ow * w),
                     "as large as a dense interpolation matrix: gather the source pixels (or use "
                     "one small matrix per axis)")


# ---- transposed convolution -------------------------------------------------------------------
@prop(weight=4, given={"call": conv_calls()}, examples=25)
def conv_transpose_values(k, call):
    """conv_transpose2d equals torch's: bias, ints or pairs, stride, dilation, padding up to beyond d(k−1)."""
    check_call(k, call)


@prop(weight=2, given={"call": conv_calls(output_padding=True)}, examples=20)
def conv_transpose_output_padding(k, call):
    """output_padding adds rows/columns at the bottom/right; allowed when < stride or < dilation."""
    check_call(k, call)


@prop(weight=1, given={"call": bad_output_padding_calls()}, examples=8)
def conv_transpose_rejects(k, call):
    """ValueError when output_padding is not smaller than stride or dilation in some dimension."""
    args, kwargs = call.build()
    with k.raises("ValueError", f"{call!r} must raise ValueError (output_padding ≥ stride and ≥ dilation)"):
        k.invoke(call.fn, *args, **kwargs)


@prop(weight=2, given={"case": adjoint_cases()}, examples=15)
def conv_transpose_adjoint(k, case):
    """⟨conv2d(x, W), y⟩ = ⟨x, conv_transpose2d(y, W)⟩ for the same stride, padding and dilation."""
    call, x = case["call"], case["x"].build()
    got, _, (y, weight), kw = run(k, call)
    expect(isinstance(got, torch.Tensor), "conv_transpose2d must return a tensor", got=type(got).__name__)
    expect(tuple(got.shape) == tuple(x.shape), "conv_transpose2d(y, W) must have x's shape (output_padding "
           "picks it among the shapes conv2d maps to y's)", expected=tuple(x.shape), got=tuple(got.shape))
    conv = {key: kw[key] for key in ("stride", "padding", "dilation")}
    lhs = float((F.conv2d(x, weight, **conv) * y).sum())
    rhs = float((x * got.double()).sum())
    # float64: both sides sum ≤ ~10^3 products; 1e-10 of their total magnitude is far above
    # round-off and far below any wrong entry.
    scale = float((F.conv2d(x.abs(), weight.abs(), **conv) * y.abs()).sum()) + 1e-30
    expect(abs(lhs - rhs) <= 1e-10 * scale,
           "the transposed convolution must be the adjoint of conv2d: <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>",
           expected=lhs, got=rhs)


# Zero-inserted, fully padded input of (H−1)s + 1 + 2d(k−1) + output_padding per axis, times the
# kernel (C_in·C_out·kH·kW): room for im2col of the zero-inserted input, a per-tap scatter, or the
# whole broadcast product before the sum over C_in; the dense matrix of the map
# (C_in·H·W × C_out·H_out·W_out, 20-33 MB in float32) is ≥ 50× larger, and ≥ 4× the bytes allowed.
_CONV_BIG = [Call("conv_transpose2d", (T((1, 3, 24, 24), "float32", 5), T((3, 2, 3, 3), "float32", 6)),
                  {"stride": 2, "padding": 1, "output_padding": 1}),
             Call("conv_transpose2d", (T((1, 3, 30, 30), "float32", 7), T((3, 2, 3, 3), "float32", 8)),
                  {"padding": 2, "dilation": 2})]


def _conv_allowance(call):
    (n, c_in, h, w), (_, c_out, kh, kw) = call.args[0].shape, call.args[1].shape
    s, op, d = (pair(call.kwargs.get(key, dflt)) for key, dflt in
                (("stride", 1), ("output_padding", 0), ("dilation", 1)))
    zh = (h - 1) * s[0] + 1 + 2 * d[0] * (kh - 1) + op[0]
    zw = (w - 1) * s[1] + 1 + 2 * d[1] * (kw - 1) + op[1]
    return n * c_in * c_out * kh * kw * zh * zw


@prop(weight=2)
def conv_transpose_memory(k):
    """No tensor or buffer larger than the zero-inserted input times the kernel (no dense matrix of the map)."""
    for call in _CONV_BIG:
        got, readings, args, kwargs = run(k, call, probes=MEMORY_PROBES)
        check_result(call, got, args, kwargs)
        check_memory(call, readings, _conv_allowance(call),
                     "larger than the zero-inserted input times the kernel area: scatter the kernel "
                     "taps or convolve the zero-inserted input, never build the whole linear map")


# ---- all --------------------------------------------------------------------------------------
@prop(weight=1, given={"shuffle": shuffle_calls(), "interp": interp_calls("bilinear", "scale"),
                       "conv": conv_calls()}, examples=6)
def inputs_unchanged(k, shuffle, interp, conv):
    """No function modifies its arguments."""
    for call in (shuffle, Call("pixel_unshuffle", (T((1, 2, 4, 6), "float32", 1), 2)), interp, conv):
        args, kwargs = call.build()
        before = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
        out = k.invoke(call.fn, *args, return_args=True, **kwargs)
        same = all(not isinstance(b, torch.Tensor) or torch.equal(a, b) for a, b in zip(out.args, before))
        bias = kwargs.get("bias")
        same = same and (bias is None or torch.equal(out.kwargs["bias"], bias))
        expect(same, f"{call!r} must not modify its arguments")
