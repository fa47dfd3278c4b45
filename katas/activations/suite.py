"""Hidden suite for activations: runs in the checker, calls the attempt through the worker.

Elementwise results are compared with the true values computed in high precision
(katas.activations.oracle, mpmath), never with torch's own kernels (F.gelu is off by 93 % at
-8.37 in float64) nor with the reference. swiglu_ffn is compared with float64 autograd.

Accuracy bound, per element, for a computed g (a forward f, or grad_out * f'):

    |got - g(x)| <= K * eps * (|g(x)| + |x * g'(x)|) + (1 + |x|) * (1 + |grad_out|) * tiny

- eps is the dtype's machine epsilon (2^-23, 2^-52), tiny its smallest normal number.
- |x * g'(x)| is |g| times g's condition number: what rounding x (or beta*x, x/√2, x³) by one
  ulp changes in the exact g. No formulation computed in the input's dtype avoids that error,
  and it is what lets e.g. gelu(-30) (condition number ~900) be judged fairly: without it, "a few
  eps" would demand extra precision for the argument.
- The last term only matters for results below the normal range (2^-1022 / 2^-126): there a result may be flushed to 0 (1/(1 + exp(-x)) is, at
  x = -720, and so is torch.sigmoid), and a flushed intermediate times x is off by |x|·tiny.
- K, measured as the worst err / (eps·(|g| + |x·g'|)) over a dense sweep of [-1e4, 1e4] (3000
  magnitudes, both signs, both dtypes): the reference 1.4 forward / 2.7 backward; the three
  alternatives (float64 inside, log-space, masked branches with erfcx) 3.2 / 4.0; torch's own
  stable kernels (torch.sigmoid, F.logsigmoid, F.softplus, F.silu) 1.2 forward, and ATen's SiLU
  derivative s·(1 + x·(1 - s)) 18 in float64 near x = 36, where 1 - s keeps a few bits but
  x·(1 - s) is small next to 1 (its error is at most ~x/2 eps). Every mistake the suite is
  meant to catch is off by 10^3 eps or more (a cancelled 1 + erf, log(1 - ulp), an overflowed
  exp), so K = 8 for forward values and 32 for derivatives leave room over every correct
  formulation seen and still fail them all.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from checker.suite import Failed, expect, fail, prop
from katas._shared.numeric import as_numpy, check_close
from katas._shared.torch_builders import dtype_of, seeded_tensor, seeds
from katas.activations.oracle import LIMITS, exact

# Tiny tensors: intra-op threads only contend on a busy machine.
torch.set_num_threads(1)

DTYPES = ("float32", "float64")
NP_DTYPES = {"float32": np.float32, "float64": np.float64}
EPS = {"float32": 2.0 ** -23, "float64": 2.0 ** -52}
TINY = {"float32": 2.0 ** -126, "float64": 2.0 ** -1022}   # smallest normal numbers
K_FORWARD, K_BACKWARD = 8, 32
NAMES = ("sigmoid", "log_sigmoid", "softplus", "gelu", "silu")

# What torch.sigmoid, Tensor.sigmoid(), torch.special.expit, F.logsigmoid / softplus / gelu / silu
# / glu, the nn modules, torch.ops.aten.* and autograd through them dispatch to.
FORBIDDEN_OPS = {"sigmoid", "sigmoid_", "sigmoid_backward", "log_sigmoid_forward",
                 "log_sigmoid_backward", "log_sigmoid", "softplus", "softplus_backward", "gelu",
                 "gelu_", "gelu_backward", "silu", "silu_", "silu_backward", "glu",
                 "glu_backward", "special_expit"}

# ---- inputs ------------------------------------------------------------------------------------
# Points where the usual mistakes show: cancellation (0.75, 1.28: roots of the derivatives;
# 17-37: sigmoid rounds to 1 in float64), overflow of exp (88.7 / 709.8), tiny results
# (gelu(-10), sigmoid(-700), softplus(-40)), and the ends of the range.
_POINTS = [0.0, 1e-300, 1e-30, 1e-8, 0.1, 0.5, 0.7518, 1.0, 1.2785, 2.0, 3.0, 5.0, 8.37, 10.0,
           17.0, 20.0, 25.0, 29.0, 30.0, 36.0, 37.0, 40.0, 88.0, 89.0, 100.0, 700.0, 709.0, 710.0,
           745.0, 1000.0, 1e4]
_EXTREMES = [40.0, 50.0, 88.7, 89.0, 100.0, 709.8, 710.0, 745.0, 1000.0, 5000.0, 1e4]
# Betas with few significant bits: beta·x is then exact for the round points above, so no point
# sits within an ulp of the threshold, where `beta·x > t` and `x > t/beta` could disagree.
BETAS = [1.0, 0.5, 2.0, 0.25, 1.5, 3.0, 0.125, 1.75]
THRESHOLDS = [20.0, 0.0, 1.0, 2.5, 10.0, 100.0]
GRAD_OUTS = [1.0, -1.0, 0.5, -2.0, 3.0, -0.25]


def _rounded(dtype, values):
    """Values as the dtype represents them, so torch.tensor(xs, dtype) is exactly xs."""
    return sorted(set(np.asarray(values, dtype=NP_DTYPES[dtype]).astype(np.float64).tolist()))


POINTS = {dt: _rounded(dt, _POINTS + [-v for v in _POINTS]) for dt in DTYPES}
EXTREMES = {dt: _rounded(dt, _EXTREMES + [-v for v in _EXTREMES]) for dt in DTYPES}


def _element(dtype):
    """One input: half the time a point of POINTS, else log-uniform in ±[1e-8, 1e4] or any float
    in [-1e4, 1e4] (hypothesis's: subnormals, -0.0, the ends)."""
    width = 32 if dtype == "float32" else 64
    cast = NP_DTYPES[dtype]
    log_uniform = st.tuples(st.sampled_from([-1.0, 1.0]), st.floats(-8, 4)).map(
        lambda t: float(cast(t[0] * 10.0 ** t[1])))
    points = st.sampled_from(POINTS[dtype])
    return st.one_of(points, log_uniform, points, st.floats(-1e4, 1e4, width=width, allow_nan=False))


ELEMENT = {dt: _element(dt) for dt in DTYPES}


def _softplus_kwargs(draw):
    return {"beta": draw(st.sampled_from(BETAS)), "threshold": draw(st.sampled_from(THRESHOLDS))}


@st.composite
def cases(draw, fn, approximate=None, backward=False, points=None, max_size=8):
    """{"dtype", "xs", "kwargs"} (+ "grad_out" for backward): fn(torch.tensor(xs), **kwargs)."""
    dtype = draw(st.sampled_from(DTYPES))
    xs = draw(st.lists(st.sampled_from(points[dtype]) if points else ELEMENT[dtype],
                       min_size=1, max_size=max_size))
    kwargs = _softplus_kwargs(draw) if fn == "softplus" else {}
    if approximate is not None:
        kwargs["approximate"] = draw(st.sampled_from(approximate))
    case = {"dtype": dtype, "xs": xs, "kwargs": kwargs}
    if backward:
        case["grad_out"] = draw(st.lists(st.sampled_from(GRAD_OUTS), min_size=len(xs),
                                         max_size=len(xs)))
    return case


# ---- calling and comparing ---------------------------------------------------------------------

def _tensor(case, key="xs"):
    return torch.tensor(case[key], dtype=dtype_of(case["dtype"]))


def run(k, fn, *args, **kwargs):
    """The attempt's fn under the harness's observation; fails on torch's own kernels."""
    out = k.harness("call", fn, *args, **kwargs).value
    used = sorted(set(out["ops"]) & FORBIDDEN_OPS)
    if used:
        fail(f"{fn} dispatched torch's own kernel aten::{used[0]} (torch.sigmoid, Tensor.sigmoid(), "
             "F.gelu, torch.ops.aten.*, ... are forbidden here: write the formula yourself)",
             got=used)
    return out


def _result(value, x, what):
    if not isinstance(value, torch.Tensor):
        fail(f"{what} must return a torch.Tensor", expected="Tensor", got=type(value).__name__)
    expect(tuple(value.shape) == tuple(x.shape), f"{what} must keep x's shape",
           expected=tuple(x.shape), got=tuple(value.shape))
    expect(value.dtype == x.dtype, f"{what} must keep x's dtype (float32 stays float32)",
           expected=str(x.dtype), got=str(value.dtype))
    return value


def oracle_key(fn, kwargs):
    return "gelu_tanh" if fn == "gelu" and kwargs.get("approximate") == "tanh" else fn


def _linear(case, x):
    """softplus's branch as torch decides it: beta * x > threshold, computed in x's dtype."""
    kw = case["kwargs"]
    return ((x * kw.get("beta", 1.0)) > kw.get("threshold", 20.0)).tolist()


def _element(want, got, allowed):
    """How one element was judged, for a reproduction script (checker.repro)."""
    return {"kind": "close", "rtol": 0.0, "atol": allowed, "expected": want, "got": got}


def compare(case, fn, got, call, backward=False):
    """Every element of got against the true value; fails on the worst one."""
    dtype, xs, kw = case["dtype"], case["xs"], case["kwargs"]
    key = oracle_key(fn, kw)
    x = _tensor(case)
    linear = _linear(case, x) if fn == "softplus" else [False] * len(xs)
    gos = case["grad_out"] if backward else [1.0] * len(xs)
    g = as_numpy(got).astype(np.float64).ravel().tolist()
    k_eps = (K_BACKWARD if backward else K_FORWARD) * EPS[dtype]
    worst = None
    for i, xi in enumerate(xs):
        go = gos[i]
        if not math.isfinite(xi):
            if math.isnan(xi):
                want = math.nan
            else:
                want = go * LIMITS[key]["d" if backward else "f"][int(xi > 0)]
            ok = math.isnan(g[i]) if math.isnan(want) else g[i] == want
            if not ok:
                _fail_at(i, f"{call}: at x = {xi!r} the result must be {want!r} "
                         f"({'NaN propagates' if math.isnan(want) else 'the limit'})",
                         expected=want, got=g[i], compare=_element(want, g[i], 0.0))
            continue
        f, d1, d2 = exact(key, xi, kw.get("beta", 1.0), linear[i])
        want, xd = (go * d1, xi * go * d2) if backward else (f, xi * d1)
        allowed = k_eps * (abs(want) + abs(xd)) + (1 + abs(xi)) * (1 + abs(go)) * TINY[dtype]
        if not math.isfinite(g[i]):
            _fail_at(i, f"{call}: at x = {xi!r} the result is not finite, but the true value is",
                     expected=want, got=g[i], compare=_element(want, g[i], allowed))
        ratio = abs(g[i] - want) / allowed
        if ratio > 1 and (worst is None or ratio > worst[0]):
            worst = (ratio, i, xi, want, g[i], allowed)
    if worst is not None:
        _, i, xi, want, gi, allowed = worst
        term = "|g| + |x·g'|, g = grad_out·f'" if backward else "|f| + |x·f'|"
        _fail_at(i, f"{call}: at x = {xi!r} the error {abs(gi - want):.3g} exceeds the allowed "
                 f"{allowed:.3g} = {K_BACKWARD if backward else K_FORWARD}·eps·({term}) "
                 "(expected = the true value)", expected=want, got=gi,
                 compare=_element(want, gi, allowed))


def _fail_at(index, rule, **kw):
    """fail(), remembering which element failed (the grid properties call it again alone)."""
    try:
        fail(rule, **kw)
    except Failed as exc:
        exc.index = index
        raise


def _literal(values):
    def one(v):
        if math.isnan(v):
            return "math.nan"
        return ("math.inf" if v > 0 else "-math.inf") if math.isinf(v) else repr(v)
    return "[" + ", ".join(one(v) for v in values) + "]"


def _call_text(fn, case, backward=False):
    """The call as the attempt got it: names of the shown case's lists, or (for properties
    without a drawn case) the values themselves."""
    kw = "".join(f", {k}={v!r}" for k, v in case["kwargs"].items())
    xs, gos = ((_literal(case["xs"]), _literal(case.get("grad_out", [])))
               if case.get("literal") else ("xs", "grad_out"))
    x = f"torch.tensor({xs}, dtype=torch.{case['dtype']})"
    if backward:
        return (f"activation_backward({fn!r}, {x}, torch.tensor({gos}, "
                f"dtype=torch.{case['dtype']}){kw})")
    return f"{fn}({x}{kw})"


def check_forward(k, fn, case):
    x = _tensor(case)
    call = _call_text(fn, case)
    got = _result(run(k, fn, x, **case["kwargs"])["value"], x, call)
    compare(case, fn, got, call)


def check_backward(k, fn, case):
    x, go = _tensor(case), _tensor(case, "grad_out")
    call = _call_text(fn, case, backward=True)
    out = run(k, "activation_backward", fn, x, go, **case["kwargs"])
    compare(case, fn, _result(out["value"], x, call), call, backward=True)
    return out


# ---- forward values ----------------------------------------------------------------------------

@prop(weight=3, given={"case": cases("sigmoid")}, examples=10)
def sigmoid_values(k, case):
    """sigmoid(x) is accurate to a few eps everywhere in [-1e4, 1e4], tails and tiny results too."""
    check_forward(k, "sigmoid", case)


@prop(weight=3, given={"case": cases("log_sigmoid")}, examples=10)
def log_sigmoid_values(k, case):
    """log_sigmoid(x) is accurate everywhere: finite at -1000, full precision at +30."""
    check_forward(k, "log_sigmoid", case)


@prop(weight=3, given={"case": cases("softplus")}, examples=10)
def softplus_values(k, case):
    """softplus(x, beta, threshold) is accurate everywhere (softplus(-40) too), any beta and threshold."""
    check_forward(k, "softplus", case)


@st.composite
def threshold_cases(draw):
    """x at and next to threshold / beta (beta a power of two, so beta * x is exact), and in the
    window between threshold and threshold / beta."""
    dtype = draw(st.sampled_from(DTYPES))
    beta = draw(st.sampled_from([1.0, 0.5, 2.0, 0.25, 4.0]))
    threshold = draw(st.sampled_from([20.0, 0.0, 1.0, 2.5, 5.0]))
    edge = NP_DTYPES[dtype](threshold / beta)
    up, down = (float(np.nextafter(edge, NP_DTYPES[dtype](s))) for s in (np.inf, -np.inf))
    near = _rounded(dtype, [threshold / beta, up, down, threshold, 1.5 * threshold,
                            0.75 * threshold / beta, 1.25 * threshold / beta + 0.5])
    xs = draw(st.lists(st.sampled_from(near), min_size=1, max_size=4))
    return {"dtype": dtype, "xs": xs, "kwargs": {"beta": beta, "threshold": threshold}}


@prop(weight=2, given={"case": threshold_cases()}, examples=10)
def softplus_threshold(k, case):
    """softplus returns x exactly when beta·x > threshold (strictly), log1p(exp(beta·x))/beta otherwise."""
    check_forward(k, "softplus", case)


@prop(weight=3, given={"case": cases("gelu")}, examples=10)
def gelu_values(k, case):
    """gelu(x) = x·Φ(x) is accurate everywhere, including the left tail (gelu(-10) = -7.6e-23)."""
    check_forward(k, "gelu", case)


@prop(weight=2, given={"case": cases("gelu", approximate=["tanh"])}, examples=8)
def gelu_tanh_values(k, case):
    """gelu(x, approximate="tanh") = 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), accurate everywhere."""
    check_forward(k, "gelu", case)


@prop(weight=2, given={"case": cases("silu")}, examples=8)
def silu_values(k, case):
    """silu(x) = x·sigmoid(x) is accurate everywhere."""
    check_forward(k, "silu", case)


SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan]
SPECIAL_GRAD = [1.0, -2.0, 0.5, 3.0, 1.0]
ALL = [("sigmoid", {}), ("log_sigmoid", {}), ("softplus", {}),
       ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {})]


@prop(weight=2)
def special_values(k):
    """At 0, ±inf and NaN: the exact values and limits (gelu(-inf) = silu(-inf) = 0), NaN propagates."""
    for dtype in DTYPES:
        for fn, kw in ALL:
            case = {"dtype": dtype, "xs": SPECIAL, "kwargs": dict(kw), "grad_out": SPECIAL_GRAD,
                    "literal": True}
            check_forward(k, fn, case)
            check_backward(k, fn, case)


@prop(weight=2, given={"fn": st.sampled_from(ALL), "backward": st.booleans(),
                       "threshold": st.sampled_from([20.0, 100.0, 1e4]),
                       "case": cases("sigmoid", points=EXTREMES, backward=True)}, examples=10)
def finite_for_finite_inputs(k, fn, backward, threshold, case):
    """No inf or NaN for large finite inputs (up to ±1e4), forward and backward, any threshold."""
    name, kw = fn
    case = {**case, "kwargs": {"threshold": threshold} if name == "softplus" else dict(kw)}
    x, go = _tensor(case), _tensor(case, "grad_out")
    call = _call_text(name, case, backward)
    if backward:
        got = run(k, "activation_backward", name, x, go, **case["kwargs"])["value"]
    else:
        got = run(k, name, x, **case["kwargs"])["value"]
    got = as_numpy(_result(got, x, call)).astype(np.float64)
    bad = ~np.isfinite(got)
    if bad.any():
        i = int(np.argmax(bad))
        fail(f"{call}: not finite at x = {case['xs'][i]!r}, where the true result is finite "
             "(an intermediate overflowed)", got=float(got[i]))


GRID_FNS = ALL + [("softplus", {"beta": 0.5, "threshold": 5.0}),
                  ("softplus", {"beta": 2.0, "threshold": 100.0})]


def check_fixed(k, fn, kw, dtype, xs, backward):
    """fn on the fixed xs at once; a failure is shown as the call on the failing element alone
    (made again, so what is shown is what the attempt was called with)."""
    check = check_backward if backward else check_forward
    gos = [GRAD_OUTS[i % len(GRAD_OUTS)] for i in range(len(xs))]
    case = {"dtype": dtype, "xs": xs, "kwargs": dict(kw), "grad_out": gos, "literal": True}
    try:
        check(k, fn, case)
    except Failed as exc:
        i = getattr(exc, "index", None)
        if i is not None:
            check(k, fn, {**case, "xs": [xs[i]], "grad_out": [gos[i]]})
        raise  # not elementwise: the failure on the whole list stands


def check_grid(k, backward):
    """Every function on all of POINTS, both dtypes."""
    for dtype in DTYPES:
        for fn, kw in GRID_FNS:
            check_fixed(k, fn, kw, dtype, POINTS[dtype], backward)


@prop(weight=3)
def forward_grid(k):
    """Every forward function at the telling points (0, 1e-300, roots, ±17..±40, exp overflow, ±1e4), both dtypes."""
    check_grid(k, backward=False)


@prop(weight=3)
def backward_grid(k):
    """Every derivative at the same points, both dtypes: no 1 − s that rounds to 0, no overflow."""
    check_grid(k, backward=True)


# beta·x where exp(beta·x) overflows (float32 above 88.7, float64 above 709.8) but, below a large
# threshold, softplus is still log1p(exp(beta·x))/beta ≈ x, finite: the stable form is required.
# Betas 1 and 2 make beta·x exact. A threshold of 100 keeps only 89 and 95 on the soft branch.
LARGE_Z = [89.0, 95.0, 710.0, 800.0, 5000.0]
LARGE_THRESHOLD_CASES = [({"beta": beta, "threshold": t}, [z / beta for z in LARGE_Z])
                         for t in (100.0, 1e4) for beta in (1.0, 2.0)]


def check_large_threshold(k, backward):
    for dtype in DTYPES:
        for kw, xs in LARGE_THRESHOLD_CASES:
            check_fixed(k, "softplus", kw, dtype, _rounded(dtype, xs), backward)


@prop(weight=2)
def softplus_large_threshold(k):
    """softplus stays accurate below a threshold of 100 or 1e4 (beta·x = 89 .. 5000: no exp overflow)."""
    check_large_threshold(k, backward=False)


@prop(weight=2)
def backward_softplus_large_threshold(k):
    """activation_backward("softplus") stays accurate below a threshold of 100 or 1e4 (beta·x = 89 .. 5000)."""
    check_large_threshold(k, backward=True)


# ---- backward values ---------------------------------------------------------------------------

@prop(weight=2, given={"case": cases("sigmoid", backward=True)}, examples=8)
def backward_sigmoid(k, case):
    """activation_backward("sigmoid") = grad_out·s(1 − s), accurate also where 1 − s underflows."""
    check_backward(k, "sigmoid", case)


@prop(weight=2, given={"case": cases("log_sigmoid", backward=True)}, examples=8)
def backward_log_sigmoid(k, case):
    """activation_backward("log_sigmoid") = grad_out·sigmoid(−x), accurate everywhere."""
    check_backward(k, "log_sigmoid", case)


@prop(weight=2, given={"case": cases("softplus", backward=True)}, examples=8)
def backward_softplus(k, case):
    """activation_backward("softplus") = grad_out·sigmoid(beta·x), and grad_out itself above the threshold."""
    check_backward(k, "softplus", case)


@prop(weight=3, given={"case": cases("gelu", approximate=["none", "tanh"], backward=True)},
      examples=10)
def backward_gelu(k, case):
    """activation_backward("gelu") = grad_out·(Φ(x) + x·φ(x)) (exact) or the tanh form's derivative."""
    check_backward(k, "gelu", case)


@prop(weight=2, given={"case": cases("silu", backward=True)}, examples=8)
def backward_silu(k, case):
    """activation_backward("silu") = grad_out·s·(1 + x·(1 − s)), s = sigmoid(x)."""
    check_backward(k, "silu", case)


def _no_autograd(out, call):
    expect(not out["autograd"],
           f"{call} used autograd: under torch.no_grad, with inputs that do not require grad, the "
           "derivative must be computed by hand", expected="no autograd graph", got=out["autograd"])


# ---- swiglu ------------------------------------------------------------------------------------

@st.composite
def ffn_cases(draw):
    """x (T, d), w1 and w3 (d, h), w2 (h, d), dy (T, d): T = 1 often, h ≠ d mostly."""
    t = draw(st.sampled_from([1, 1, 2, 3, 5]))
    d = draw(st.integers(1, 6))
    h = draw(st.integers(1, 7))
    return {"dtype": draw(st.sampled_from(DTYPES)), "T": t, "d": d, "h": h, "seed": draw(seeds()),
            "scale": draw(st.sampled_from([1.0, 0.5, 2.0]))}


def ffn_tensors(case):
    """x, w1, w3, w2, dy of a recipe: seeded_tensor(shape, dtype, seed + i, scale)."""
    t, d, h, s, dt, sc = (case[key] for key in ("T", "d", "h", "seed", "dtype", "scale"))
    shapes = [(t, d), (d, h), (d, h), (h, d), (t, d)]
    return [seeded_tensor(shape, dt, s + i, sc) for i, shape in enumerate(shapes)]


def ffn_oracle(x, w1, w3, w2, dy):
    """y and (dx, dw1, dw3, dw2) by float64 autograd, and the size each is measured against:
    the same products over absolute values (what the rounding errors of the sums scale with)."""
    leaves = [t.double().requires_grad_(True) for t in (x, w1, w3, w2)]
    xd, w1d, w3d, w2d = leaves
    a, b = xd @ w1d, xd @ w3d
    y = (F.silu(a) * b) @ w2d
    # The gradient of the scalar Σ y·dy: with a tensor grad_outputs instead, autograd.grad's first
    # call imports torch.fx's symbolic shapes and sympy (1.5 s).
    grads = torch.autograd.grad((y * dy.double()).sum(), leaves)
    ax, a1, a3, a2, ady = (t.detach().double().abs() for t in (x, w1, w3, w2, dy))
    ma, mb = ax @ a1, ax @ a3                      # bound |a|, |b| and their rounding errors
    mh = ma * mb                                   # |silu(a)·b| <= |a|·|b|, |silu'| <= 1.1
    mdh = ady @ a2.T
    mda, mdb = 1.1 * mdh * mb, mdh * ma
    sizes = [mda @ a1.T + mdb @ a3.T, ax.T @ mda, ax.T @ mdb, mh.T @ ady]
    return y.detach(), [g.detach() for g in grads], mh @ a2, sizes


# Errors relative to the largest absolute-value size of each result. float64: sums of at most
# d + h <= 13 products, each rounding eps = 2.2e-16 relative to that size: ~3e-15; 1e-12 leaves
# 300x and fails anything rounded through float32 (6e-8). float32: the same bound is ~2e-6
# (13 · 1.2e-7); 1e-5.
FFN_TOL = {"float64": 1e-12, "float32": 1e-5}


def run_ffn(k, case):
    x, w1, w3, w2, dy = ffn_tensors(case)
    out = k.harness("ffn", x, w1, w3, w2, dy).value
    used = sorted(set(out["ops"]) & FORBIDDEN_OPS)
    if used:
        fail(f"swiglu_ffn / swiglu_ffn_backward dispatched torch's own kernel aten::{used[0]} "
             "(forbidden here: write the formula yourself)", got=used)
    expect(out["error"] is None, out["error"] or "")
    return out, (x, w1, w3, w2, dy)


def _four(got):
    expect(isinstance(got, (tuple, list)) and len(got) == 4,
           "swiglu_ffn_backward must return a tuple (dx, dw1, dw3, dw2)",
           got=type(got).__name__ if not isinstance(got, (tuple, list)) else f"{len(got)} values")
    return got


def _close(got, want, size, case, what):
    if not isinstance(got, torch.Tensor):
        fail(f"{what} must be a torch.Tensor", got=type(got).__name__)
    expect(got.dtype == dtype_of(case["dtype"]), f"{what} must have the inputs' dtype",
           expected=case["dtype"], got=str(got.dtype))
    # Against the largest size in the tensor: one scalar tolerance per result, as flash_attention.
    tol = FFN_TOL[case["dtype"]] * float(size.max()) if size.numel() else 0.0
    check_close(got, want, rtol=0.0, atol=tol + 1e-300, what=what)


@prop(weight=2, given={"case": ffn_cases()}, examples=8)
def swiglu_forward(k, case):
    """swiglu_ffn's y = (silu(x @ w1) * (x @ w3)) @ w2, for any (T, d, h), T = 1 and h ≠ d included."""
    out, tensors = run_ffn(k, case)
    y, _, size, _ = ffn_oracle(*tensors)
    _close(out["y"], y, size, case, "y of swiglu_ffn(x, w1, w3, w2)")


@prop(weight=4, given={"case": ffn_cases()}, examples=8)
def swiglu_backward(k, case):
    """swiglu_ffn_backward gives dx, dw1, dw3, dw2 = float64 autograd's gradients of Σ y·dy."""
    out, tensors = run_ffn(k, case)
    _, grads, _, sizes = ffn_oracle(*tensors)
    got = _four(out["grads"])
    for g, want, size, name in zip(got, grads, sizes, ("dx", "dw1", "dw3", "dw2")):
        _close(g, want, size, case, f"{name} of swiglu_ffn_backward")


@prop(weight=2)
def backward_without_autograd(k):
    """The backward functions build no autograd graph (called under torch.no_grad, inputs not requiring grad)."""
    case = {"dtype": "float64", "xs": [-3.0, -0.5, 0.0, 0.75, 4.0],
            "grad_out": [1.0, -2.0, 0.5, 1.0, 3.0], "literal": True}
    for fn, kw in ALL:
        c = {**case, "kwargs": dict(kw)}
        call = _call_text(fn, c, backward=True)
        out = run(k, "activation_backward", fn, _tensor(c), _tensor(c, "grad_out"), **c["kwargs"])
        _no_autograd(out, call)
        compare(c, fn, _result(out["value"], _tensor(c), call), call, backward=True)
    ffn_case = {"dtype": "float64", "T": 2, "d": 3, "h": 4, "seed": 1, "scale": 1.0}
    out, tensors = run_ffn(k, ffn_case)
    _no_autograd(out, "swiglu_ffn / swiglu_ffn_backward(saved, dy) on the recipe "
                      f"{ffn_case} (see 'Reproducing a failure')")
    _, grads, _, sizes = ffn_oracle(*tensors)
    _four(out["grads"])
    for g, want, size, name in zip(out["grads"], grads, sizes, ("dx", "dw1", "dw3", "dw2")):
        _close(g, want, size, ffn_case, f"{name} of swiglu_ffn_backward")


# ---- shapes ------------------------------------------------------------------------------------

@prop(weight=1, given={"fn": st.sampled_from(ALL), "backward": st.booleans(),
                       "dtype": st.sampled_from(DTYPES),
                       "shape": st.sampled_from([(), (0,), (2, 3), (1, 4, 1), (3, 2)]),
                       "transposed": st.booleans(), "seed": seeds()}, examples=8)
def shapes_and_dtypes(k, fn, backward, dtype, shape, transposed, seed):
    """Any shape (0-d, empty, n-d, non-contiguous) in, the same shape and dtype out."""
    name, kw = fn
    x = seeded_tensor(shape, dtype, seed, 3.0)
    if transposed and x.dim() >= 2:
        x = x.transpose(0, 1)
    go = seeded_tensor(x.shape, dtype, seed + 1)
    what = f"{'activation_backward(' + repr(name) + ', x, grad_out' if backward else name + '(x'}" \
           f"{''.join(f', {a}={b!r}' for a, b in kw.items())})"
    if backward:
        got = run(k, "activation_backward", name, x, go, **kw)["value"]
    else:
        got = run(k, name, x, **kw)["value"]
    _result(got, x, what)
