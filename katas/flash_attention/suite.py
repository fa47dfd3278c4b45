"""Hidden suite for flash_attention: runs in the checker, calls the attempt through the worker.

Expected values come from dense attention computed from the definition in float64
(katas._shared.tensors.dense_attention) and its autograd gradients, never from the reference's
tiles: any correct tiling, loop order or formulation passes.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from checker.suite import expect, fail, prop
from katas._shared.numeric import check_close
from katas._shared.readings import expect_tensors_within
from katas._shared.tensors import attention_cases, build, dense_attention

# The checker computes small dense float64 references; many intra-op threads only contend on a
# busy 2-core machine (see harness.py).
torch.set_num_threads(1)

# ---- tolerances -----------------------------------------------------------------------------
# Errors are measured against a natural magnitude of each result (below), so one tolerance fits
# every shape. float64 inputs computed in float64 land within ~1e-14 of the dense float64
# result (sums over d ≤ 16 and Nk ≤ 40 terms, plus the online rescaling); 1e-10 leaves four
# orders of room and still fails anything that rounds through float32 (≥ 6e-8, one rounding).
# float32 computed in float32: the worst seen over 600 random cases was 1.8e-6 for out, 2.2e-7
# for lse (relative to max(1, |lse|)), 8e-7 for dq and dk, 3e-6 for dv; the tolerances are ~10x
# that, for other summation orders.
TOL = {
    "float64": {"out": 1e-10, "lse": 1e-10, "dq": 1e-10, "dk": 1e-10, "dv": 1e-10},
    "float32": {"out": 2e-5, "lse": 3e-6, "dq": 1e-5, "dk": 1e-5, "dv": 3e-5},
}
ACC_DTYPE = {"float32": torch.float32, "float64": torch.float64}
FUSED = ("scaled_dot_product", "flash_attention", "efficient_attention", "_fused_sdp",
         "multi_head_attention", "_transformer_encoder")


def magnitudes(case, q, k, v, dout, expected_lse, grads=None):
    """The size each result is measured against. out is a convex mix of v's rows (|out| ≤ max|v|);
    lse is ~|max score|; dq = scale·dS·K and dk = scale·dSᵀ·Q with |dS_ij| ≤ P_ij·2‖dout_i‖‖v‖."""
    scale = case["scale"] if case["scale"] is not None else 1.0 / math.sqrt(case["d"])
    q, k, v, dout, expected_lse = (t.detach() for t in (q, k, v, dout, expected_lse))
    fin = expected_lse[torch.isfinite(expected_lse)]
    row = lambda t: float(t.double().norm(dim=-1).max()) if t.numel() else 0.0
    mags = {"out": max(float(v.abs().max()), 1e-30),
            "lse": max(1.0, float(fin.abs().max()) if fin.numel() else 1.0),
            "dq": scale * row(dout) * row(v) * float(k.abs().max()) + 1e-30,
            "dk": scale * row(dout) * row(v) * float(q.abs().max()) + 1e-30}
    if grads is not None:
        mags["dv"] = float(grads[2].abs().max()) + float(dout.abs().max()) + 1e-30
    return mags


def close(got, expected, name, case, mags, what):
    t = TOL[case["dtype"]][name]
    with np.errstate(invalid="ignore"):  # check_close subtracts -inf from -inf before masking it
        check_close(got, expected, rtol=t, atol=t * mags[name], what=what)


def kwargs_of(case):
    kw = {"causal": case["causal"]}
    for key in ("scale", "block_q", "block_k"):
        if case[key] is not None:
            kw[key] = case[key]
    return kw


def describe(case):
    shape = "×".join(map(str, case["lead"] + (case["nq"], case["nk"])))
    return (f"{case['dtype']}, (lead..., Nq, Nk) = {shape}, d={case['d']}, dv={case['dv']}, "
            f"causal={case['causal']}, scale={case['scale']}, blocks={case['block_q']}/{case['block_k']}")


def pair(value, names, fn):
    if not (isinstance(value, (tuple, list)) and len(value) == len(names)
            and all(isinstance(t, torch.Tensor) for t in value)):
        fail(f"{fn} must return a tuple of {len(names)} tensors ({', '.join(names)})",
             expected=f"({', '.join(names)})", got=value)
    return value


def expected_forward(case, q, k, v):
    with torch.no_grad():
        return dense_attention(q.double(), k.double(), v.double(), causal=case["causal"], scale=case["scale"])


def check_forward(k, case, probe=None):
    """Call the forward on `case` and check out and lse; returns them and the probe's reading."""
    q, kk, v, dout = build(case)
    got = k.invoke("flash_attention", q, kk, v, **kwargs_of(case), probes=[probe] if probe else [])
    out, lse = pair(got.value, ("out", "lse"), "flash_attention")
    e_out, e_lse = expected_forward(case, q, kk, v)
    mags = magnitudes(case, q, kk, v, dout, e_lse)
    if out.is_floating_point() and torch.isnan(out).any():
        fail(f"out has NaN ({describe(case)}); a row that sees no key must give zeros",
             expected="no NaN", got=out)
    close(out, e_out, "out", case, mags, f"out ({describe(case)})")
    close(lse, e_lse, "lse", case, mags, f"lse ({describe(case)})")
    return out, lse, got.probes.get(probe)


# ---- forward --------------------------------------------------------------------------------
@prop(weight=4, given={"case": attention_cases()}, examples=14)
def forward_values(k, case):
    """out and lse match dense attention, for any Nq, Nk, d, dv, leading dims and block sizes."""
    check_forward(k, case)


@prop(weight=4, given={"case": attention_cases(causal=True, relation="any_causal")}, examples=20)
def causal_bottom_right(k, case):
    """causal=True: query i sees key j iff j ≤ i + (Nk − Nq), for Nq < Nk, Nq = Nk and Nq > Nk."""
    check_forward(k, case)


@prop(weight=2, given={"case": attention_cases(causal=True, relation="gt", mags=(1.0,))}, examples=10)
def fully_masked_rows(k, case):
    """causal with Nq > Nk: the first Nq − Nk rows see no key: out = 0, lse = −inf, no NaN."""
    out, lse, _ = check_forward(k, case)
    dead = case["nq"] - case["nk"]
    expect(bool((lse[..., :dead] == float("-inf")).all()),
           f"rows 0..{dead - 1} see no key: their lse must be -inf", expected="-inf", got=lse[..., :dead])
    expect(bool((out[..., :dead, :] == 0).all()),
           f"rows 0..{dead - 1} see no key: their output must be exactly zero",
           expected="zeros", got=out[..., :dead, :])


def masked_or_not(**kw):
    """Cases without a mask, and causal ones with Nq = Nk (where a top-left and a bottom-right
    mask agree): the property judges what its name says, not the mask's alignment."""
    return st.one_of(attention_cases(causal=False, **kw), attention_cases(causal=True, relation="eq", **kw))


@prop(weight=2, given={"case": masked_or_not(scales=(None, 0.05, 0.3, 1.0, 2.0), same_dv=False)},
      examples=12)
def custom_scale(k, case):
    """scale defaults to 1/sqrt(d) (d of q and k, not dv); a given scale is used as is (causal: Nq = Nk)."""
    check_forward(k, case)


@prop(weight=1, given={"case": masked_or_not(dtypes=("float64",), mags=(30.0,), max_n=24)}, examples=8)
def large_scores(k, case):
    """Scores in the thousands (q, k ~ N(0, 30²)): no overflow, no NaN, still exact (causal: Nq = Nk)."""
    check_forward(k, case)


@prop(weight=1, given={"case": attention_cases(max_n=12)}, examples=8)
def dtype_shape(k, case):
    """out is (..., Nq, dv) in q's dtype; lse is (..., Nq) in float32 (float64 for float64 inputs)."""
    q, kk, v, _ = build(case)
    out, lse = pair(k.invoke("flash_attention", q, kk, v, **kwargs_of(case)).value,
                    ("out", "lse"), "flash_attention")
    want = case["lead"] + (case["nq"], case["dv"])
    expect(tuple(out.shape) == want, "out must have shape (..., Nq, dv)", expected=want, got=tuple(out.shape))
    expect(out.dtype == q.dtype, "out must have q's dtype", expected=str(q.dtype), got=str(out.dtype))
    want = case["lead"] + (case["nq"],)
    expect(tuple(lse.shape) == want, "lse must have shape (..., Nq)", expected=want, got=tuple(lse.shape))
    acc = ACC_DTYPE[case["dtype"]]
    expect(lse.dtype == acc, "lse must be float32 (float64 for float64 inputs)",
           expected=str(acc), got=str(lse.dtype))


# ---- backward -------------------------------------------------------------------------------
def check_backward(k, case):
    q, kk, v, dout = build(case)
    q64, k64, v64 = (t.double().requires_grad_() for t in (q, kk, v))
    e_out, e_lse = dense_attention(q64, k64, v64, causal=case["causal"], scale=case["scale"])
    grads = torch.autograd.grad(e_out, (q64, k64, v64), dout.double())
    # The saved out and lse handed to the backward are the exact ones, rounded to what a correct
    # forward returns: the backward is judged on its own, whatever the forward did.
    out = e_out.detach().to(q.dtype)
    lse = e_lse.detach().to(ACC_DTYPE[case["dtype"]])
    got = pair(k.invoke("flash_attention_backward", q, kk, v, out, lse, dout, **kwargs_of(case)).value,
               ("dq", "dk", "dv"), "flash_attention_backward")
    mags = magnitudes(case, q, kk, v, dout, e_lse, grads)
    for name, g, e, src in zip(("dq", "dk", "dv"), got, grads, (q, kk, v)):
        if g.is_floating_point() and torch.isnan(g).any():
            fail(f"{name} has NaN ({describe(case)}); rows that see no key (lse = -inf) contribute "
                 "nothing", expected="no NaN", got=g)
        expect(tuple(g.shape) == tuple(src.shape) and g.dtype == src.dtype,
               f"{name} must have the shape and dtype of its input",
               expected=(tuple(src.shape), str(src.dtype)), got=(tuple(g.shape), str(g.dtype)))
        close(g, e, name, case, mags, f"{name} ({describe(case)})")


@prop(weight=4, given={"case": attention_cases(max_n=32, max_tiles=20)}, examples=8)
def backward_values(k, case):
    """dq, dk, dv equal autograd's gradients of Σ out·dout, for any shapes and block sizes."""
    check_backward(k, case)


@prop(weight=3, given={"case": attention_cases(causal=True, relation="any_causal", max_n=32, max_tiles=20,
                                               scales=(None, 0.5))}, examples=8)
def backward_causal(k, case):
    """Causal backward (bottom-right), including rows that see no key: zero gradient, no NaN."""
    check_backward(k, case)


# ---- memory ---------------------------------------------------------------------------------
# The inputs worst for memory: two heads, Nq and Nk many times the tiles (32 × 64), both ragged
# (330 = 10·32 + 10, 390 = 12·32 + 6 = 6·64 + 6; 1000 = 31·32 + 8, 1100 = 34·32 + 12 = 17·64 + 12),
# causal (square: Nq = Nk) and not.
SIZES = {"dtype": "float32", "lead": (1, 2), "nq": 330, "nk": 390, "d": 16, "dv": 16, "causal": False,
         "scale": None, "block_q": 32, "block_k": 64, "mag": 1.0, "seed": 7}
BIG = dict(SIZES, nq=1000, nk=1100, seed=11)


def big_backward(k, case, probe):
    """The backward on a big case under `probe`. Its values are judged by backward_values; here
    only an invariant a cheap fake cannot meet by accident: every row sees a key (Nq ≤ Nk) and
    P's rows sum to 1, so Σ_j dv_j = Σ_i dout_i (a backward that skips the work when measured, or
    returns zeros, fails it; a wrong scale or a missing D term does not, it is not this property's
    concern). float32 sums of ≤ 1100 terms of size ~1: 1e-3 of Σ|dout| is far above rounding."""
    q, kk, v, dout = build(case)
    with torch.no_grad():
        e_out, e_lse = expected_forward(case, q, kk, v)
    call = k.invoke("flash_attention_backward", q, kk, v, e_out.float(), e_lse.float(), dout,
                    **kwargs_of(case), probes=[probe], timeout=30)
    dq, dk, dv = pair(call.value, ("dq", "dk", "dv"), "flash_attention_backward")
    expect(tuple(dv.shape) == tuple(v.shape), "dv must have the shape of v", expected=tuple(v.shape),
           got=tuple(dv.shape))
    want, got = dout.double().sum(dim=-2), dv.double().sum(dim=-2)
    err = float((want - got).abs().max())
    expect(err <= 1e-3 * float(dout.double().abs().sum(dim=-2).max()),
           f"Σ_j dv_j must equal Σ_i dout_i (each row of P sums to 1) ({describe(case)})",
           expected=want, got=got)
    return call.probes[probe]


def square(base, causal):
    """The causal cases are square (Nq = Nk): the mask's alignment is causal_bottom_right's
    concern, and a top-left mask must not fail a resource property too."""
    return dict(base, causal=causal, nq=base["nk"]) if causal else dict(base, causal=False)


def big_calls(k, base, probe, backward_causal):
    """The forward, non-causal and causal (values checked: a call that returns garbage uses no
    memory), and the backward with causal in `backward_causal`, on `base` under `probe`:
    [(what, case, reading), ...]."""
    readings = []
    for causal in (False, True):
        case = square(base, causal)
        readings.append(("flash_attention", case, check_forward(k, case, probe)[2]))
    for causal in backward_causal:
        case = square(base, causal)
        readings.append(("flash_attention_backward", case, big_backward(k, case, probe)))
    return readings


@prop(weight=3)
def no_full_scores(k):
    """Nq = 330, Nk = 390, tiles 32 × 64, causal or not: no tensor of Nq·Nk elements, no fused kernel."""
    # One backward (causal) is enough to see whether it builds Nq × Nk.
    for fn, case, reading in big_calls(k, SIZES, "tensor_sizes", backward_causal=[True]):
        causal, limit = case["causal"], case["nq"] * case["nk"]
        fused = [op for op in reading["ops"] if any(f in op for f in FUSED)]
        expect(not fused, f"{fn} called a fused attention kernel (causal={causal}); write the "
                          "tiles yourself", expected="no scaled_dot_product / flash attention op",
               got=fused)
        # A score tile is block_q × block_k = 2048 per head; q, k, v, out are ≤ 12480 elements.
        # A full causal mask (even bool) or score matrix of one head is Nq·Nk ≥ 128700.
        expect_tensors_within(reading, limit, f"{fn} (causal={causal}) made a tensor as large as a "
                              "head's whole Nq × Nk score matrix: work on block_q × block_k tiles "
                              "(masks included) and keep only running statistics per row",
                              named="Nq·Nk", strict=True)


@prop(weight=3)
def peak_memory(k):
    """Nq = 1000, Nk = 1100, tiles 32 × 64: extra memory at peak far below the score matrices."""
    heads = math.prod(BIG["lead"])
    # Non-causal for the backward: every tile is visited, the most a dense shortcut could build.
    for fn, case, reading in big_calls(k, BIG, "peak_memory", backward_causal=[False]):
        # Every byte the call made resident, whichever library allocated it (checker.probes:
        # torch, numpy, Python lists). The reference peaks at ~0.3 MiB in forward (tiles + out and
        # lse) and ~0.9 MiB in backward (dq, dk, dv and their accumulators), the alternatives at
        # ≤ 1.0 MiB; a dense forward at 26 MiB, dense scores in numpy at 54 MiB. The limit,
        # outputs + a quarter of the score matrices (≥ 2.2 MiB), also
        # passes any memory-efficient variant that keeps a row panel (block_q × Nk) per step.
        nq, nk, d, dv = case["nq"], case["nk"], case["d"], case["dv"]
        scores = heads * nq * nk * 4                     # every head's Nq × Nk scores, float32
        outputs = heads * 4 * (nq * (dv + 1) if fn == "flash_attention" else nq * d + nk * (d + dv))
        limit = outputs + scores / 4
        expect(reading["peak_bytes"] <= limit,
               f"{fn} (causal={case['causal']}) used memory on the scale of the Nq × Nk score "
               "matrices (counted whatever holds it: torch, numpy, Python): keep one "
               "block_q × block_k tile and running row statistics at a time",
               expected=f"≤ {limit / 2**20:.2f} MiB above the start (the {heads} score matrices "
                        f"alone are {scores / 2**20:.1f} MiB)",
               got=f"{reading['peak_bytes'] / 2**20:.2f} MiB at peak")
