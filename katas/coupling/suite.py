"""Hidden suite for coupling: runs in the checker; the attempt's layers are built in the worker by
harness.py from the same recipes the reference is built from here (same masks, same net weights)."""
import functools
import math
import random

import torch
from hypothesis import strategies as st

from checker.suite import expect, fail, prop
from katas._shared.numeric import as_numpy, check_close
from katas._shared.torch_builders import seeded_tensor, seeds
from katas.coupling.harness import build_flow, build_layer

# Tolerances, as check_close(rtol=atol=TOL[dtype]), i.e. |got - exp| <= TOL * (1 + |exp|).
# Measured over 4000 random recipes (1-4 layers, D <= 6, |values| up to ~50), a second correct
# implementation (mask products, division by exp(s), other summation order) differs from the
# reference by at most 4e-7 (float32) and 9e-16 (float64) in that measure. The tolerances below
# are ~250x (float32: 1e-4 is still ~800 float32 eps) and ~10^5x that, while every wrong formula
# (a missing term, a wrong sign, the wrong dims) is off by a visible fraction of a value.
TOL = {"float32": 1e-4, "float64": 1e-10}
# logdet against log|det J| from autograd, float64 only: J is exact up to a few roundings per
# entry and slogdet of a <= 6x6 matrix whose determinant is a product of exp(s) (|s| <= ~15 here)
# loses at most ~1e-13; 1e-8 leaves 10^5x room and a wrong logdet is off by |s| of some dim.
JAC_TOL = 1e-8

ACTS = ("tanh", "relu", "sigmoid", "gelu", "softplus")


def one_thread_prop(**kw):
    """@prop(**kw) with the property's checker-side torch work on one thread (tiny tensors: threads
    only add overhead), restoring the checker's setting afterwards since other katas share the process."""
    def mark(fn):
        @functools.wraps(fn)
        def body(*args, **kwargs):
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return fn(*args, **kwargs)
            finally:
                torch.set_num_threads(before)
        return prop(**kw)(body)
    return mark


def _net(seed, squash=False):
    """A net recipe whose architecture is derived from its seed: one hypothesis draw per net
    instead of five (drawing is most of a property's time) and still any architecture."""
    r = random.Random(seed)
    return {"seed": seed, "hidden": r.choice([4, 8, 16]), "depth": r.randint(1, 3),
            "act": r.choice(ACTS), "init_scale": r.choice([0.5, 1.0, 1.5]), "squash": squash}


@st.composite
def layer_recipe(draw, d, kind=None, in_flow=False):
    """Any 0/1 mask (all-ones and all-zeros included), bool or float, and fresh random nets."""
    kind = kind or draw(st.sampled_from(["affine", "additive"]))
    bits = draw(st.integers(0, 2 ** d - 1))
    mask = [(bits >> i) & 1 for i in range(d)]
    a = draw(seeds())
    # Inside a flow, scale nets end in tanh (|s| <= 1): see harness.build_net.
    nets = [_net(a)] if kind == "additive" else [_net(a, squash=in_flow or a % 2 == 1), _net(a ^ 0x5EED)]
    return {"kind": kind, "mask": mask, "bool_mask": draw(st.booleans()), "nets": nets}


@st.composite
def layer_case(draw, kind=None, dtypes=("float32", "float64"), max_d=6):
    d = draw(st.integers(1, max_d))
    seed = draw(seeds())
    return {"layer": draw(layer_recipe(d, kind)), "dtype": draw(st.sampled_from(dtypes)),
            "batch": draw(st.integers(1, 5)), "x_seed": seed, "y_seed": seed + 1,
            "scale": draw(st.sampled_from([1.0, 0.5, 2.0]))}


@st.composite
def flow_case(draw, dtypes=("float32", "float64"), max_d=5):
    d = draw(st.integers(1, max_d))
    n = draw(st.integers(1, 3))
    seed = draw(seeds())
    return {"layers": [draw(layer_recipe(d, in_flow=True)) for _ in range(n)],
            "dtype": draw(st.sampled_from(dtypes)), "batch": draw(st.integers(1, 4)),
            "x_seed": seed, "z_seed": seed + 1, "scale": draw(st.sampled_from([1.0, 0.5, 2.0]))}


def _x(case, which="x_seed"):
    d = len((case.get("layer") or case["layers"][0])["mask"])
    return seeded_tensor((case["batch"], d), case["dtype"], case[which], case["scale"])


def _tensor(v, what):
    if not isinstance(v, torch.Tensor):
        fail(f"{what} must be a torch.Tensor", expected="Tensor", got=type(v).__name__)
    return v


def _close(got, expected, dtype, what):
    _tensor(got, what)
    check_close(got, expected, rtol=TOL[dtype], atol=TOL[dtype], what=what)


def _pair_or_fail(v, what):
    expect(v is not None, f"{what} did not return a tensor to continue with")
    return v


# ---- single layers -------------------------------------------------------------------------

@one_thread_prop(weight=4, given={"case": layer_case()}, examples=15)
def roundtrip(k, case):
    """inverse(forward(x)) = x and forward(inverse(y)) = y, for any mask and any (non-invertible) nets."""
    x, y = _x(case), _x(case, "y_seed")
    out = k.harness("layer_roundtrip", case["layer"], case["dtype"], x, y).value
    back = _pair_or_fail(out["back"], "forward")
    _close(back[0], x, case["dtype"], "inverse(forward(x))[0] (should be x)")
    again = _pair_or_fail(out["again"], "inverse")
    _close(again[0], y, case["dtype"], "forward(inverse(y))[0] (should be y)")


@one_thread_prop(weight=2, given={"case": layer_case()}, examples=10)
def conditioning_unchanged(k, case):
    """Dimensions with mask = 1 pass through forward and inverse exactly (bit for bit)."""
    x, y = _x(case), _x(case, "y_seed")
    out = k.harness("layer_roundtrip", case["layer"], case["dtype"], x, y).value
    keep = torch.tensor(case["layer"]["mask"]).bool()
    # Exact: a pass-through dim is a copy (or x + 0, x * 1), never a computed value.
    for got, src, what in ((out["fwd"][0], x, "forward(x)"), (out["inv"][0], y, "inverse(y)")):
        g = _tensor(got, what)
        expect(tuple(g.shape) == tuple(src.shape), f"{what} must have x's shape (batch, D)",
               expected=tuple(src.shape), got=tuple(g.shape))
        same = (g[:, keep] == src[:, keep])
        if not bool(same.all()):
            b, j = [int(i) for i in torch.nonzero(~same)[0]]
            dim = int(torch.nonzero(keep)[j])
            fail(f"{what} changed conditioning dimension {dim} (mask = 1 there: it must pass through "
                 f"unchanged) in row {b}", expected=float(src[b, dim]), got=float(g[b, dim]))


def _ref_layer(k, case):
    layer, _ = build_layer(k.ref, case["layer"], case["dtype"])
    return layer


def _matches(ref, out, x, y, dtype, names):
    """The attempt's forward(x) and inverse(y), values then logdets (`out` from the harness), equal
    those of `ref` built from the same recipe; `names` are the four as a failure shows them."""
    with torch.no_grad():
        want = (*ref.forward(x), *ref.inverse(y))
    for got, expected, what in zip((*out["fwd"], *out["inv"]), want, names):
        _close(got, expected, dtype, what)


@one_thread_prop(weight=3, given={"case": layer_case()}, examples=15)
def matches_reference(k, case):
    """forward and inverse (values and logdets) equal the definition's, on the same nets."""
    x, y = _x(case), _x(case, "y_seed")
    out = k.harness("layer_roundtrip", case["layer"], case["dtype"], x, y).value
    _matches(_ref_layer(k, case), out, x, y, case["dtype"],
             ("forward(x)[0]", "forward(x) logdet", "inverse(y)[0]", "inverse(y) logdet"))


def _block_logdets(j, what):
    """log|det| of each row's D x D Jacobian (harness: one block per row, from autograd)."""
    expect(j is not None, f"{what} must be differentiable with autograd (its output has no graph: "
           "no torch.no_grad, .detach() or numpy inside)")
    return torch.linalg.slogdet(j.to(torch.float64)).logabsdet


def _logdets_are_log_abs_det(out, what):
    """Forward and inverse logdets (`out` from harness.layer_jacobian or flow_jacobian) equal
    log|det J| of the attempt's own maps; `what` is "" or "Flow."."""
    for ld, j, way in ((out["ld"], out["J"], "forward"), (out["ld_inv"], out["J_inv"], "inverse")):
        want = _block_logdets(j, what + way)
        _tensor(ld, f"{what}{way} logdet")
        check_close(ld, want, rtol=JAC_TOL, atol=JAC_TOL,
                    what=f"{what}{way} logdet vs log|det J| of your {what}{way} (autograd)")


@one_thread_prop(weight=4, given={"case": layer_case(dtypes=("float64",), max_d=5)}, examples=15)
def logdet_is_log_abs_det_jacobian(k, case):
    """Forward and inverse logdet equal log|det J| of the layer (J from autograd, float64)."""
    x = _x(case)
    _logdets_are_log_abs_det(k.harness("layer_jacobian", case["layer"], x).value, "")


@one_thread_prop(weight=2, given={"case": layer_case()}, examples=10)
def inverse_logdet_negates(k, case):
    """inverse(forward(x)) returns logdet = -(forward logdet), since J_inv = J^-1."""
    x = _x(case)
    out = k.harness("layer_roundtrip", case["layer"], case["dtype"], x, x).value
    fld = _tensor(out["fwd"][1], "forward logdet")
    back = _pair_or_fail(out["back"], "forward")
    _close(back[1], -fld, case["dtype"], "inverse(forward(x)) logdet (should be -forward logdet)")


@one_thread_prop(weight=1, given={"case": layer_case(kind="additive")}, examples=8)
def additive_logdet_zero(k, case):
    """AdditiveCoupling's logdet is exactly zero, shape (batch,), both directions."""
    x = _x(case)
    out = k.harness("layer_roundtrip", case["layer"], case["dtype"], x, x).value
    for ld, what in ((out["fwd"][1], "forward"), (out["inv"][1], "inverse")):
        ld = _tensor(ld, f"additive {what} logdet")
        expect(tuple(ld.shape) == (case["batch"],), f"additive {what} logdet must have shape (batch,)",
               expected=(case["batch"],), got=tuple(ld.shape))
        expect(bool((ld == 0).all()), f"additive {what} logdet must be exactly 0 (a shift has det J = 1)",
               expected=[0.0] * case["batch"], got=as_numpy(ld).tolist())


# ---- flows ------------------------------------------------------------------------------------

def _ref_flow(k, case):
    return build_flow(k.ref, case["layers"], case["dtype"])[0]


@one_thread_prop(weight=3, given={"case": flow_case()}, examples=12)
def flow_roundtrip(k, case):
    """Flow: inverse(forward(x)) = x, and z, logdet, inverse(z) equal the definition's."""
    x, z = _x(case), _x(case, "z_seed")
    out = k.harness("flow_run", case["layers"], case["dtype"], x, z).value
    dt = case["dtype"]
    _matches(_ref_flow(k, case), out, x, z, dt,
             ("Flow.forward(x)[0]", "Flow.forward(x) logdet (sum over layers)",
              "Flow.inverse(z)[0] (layers inverted in reverse order)", "Flow.inverse(z) logdet"))
    back = _pair_or_fail(out["back"], "Flow.forward")
    _close(back[0], x, dt, "Flow.inverse(Flow.forward(x))[0] (should be x)")


@one_thread_prop(weight=3, given={"case": flow_case(dtypes=("float64",), max_d=4)}, examples=8)
def flow_logdet_is_log_abs_det_jacobian(k, case):
    """A whole Flow's forward and inverse logdet equal log|det J| (autograd, float64)."""
    x = _x(case)
    _logdets_are_log_abs_det(k.harness("flow_jacobian", case["layers"], x).value, "Flow.")


@one_thread_prop(weight=3, given={"case": flow_case()}, examples=12)
def log_prob(k, case):
    """log_prob(x) = log N(z; 0, I) + logdet, with the -D/2 log 2π term, shape (batch,)."""
    x = _x(case)
    out = k.harness("flow_run", case["layers"], case["dtype"], x, x).value
    with torch.no_grad():
        want = _ref_flow(k, case).log_prob(x)
    _close(out["log_prob"], want, case["dtype"], "log_prob(x)")


@one_thread_prop(weight=2, given={"case": flow_case()}, examples=8)
def log_prob_differentiable(k, case):
    """log_prob is differentiable: gradients reach x and every net parameter, and Flow registers them."""
    x = _x(case)
    out = k.harness("flow_grad", case["layers"], case["dtype"], x).value
    expect(out["graph"], "log_prob(x) must be a tensor attached to the autograd graph "
           "(no torch.no_grad, .detach() or numpy inside)")
    ref, nets = build_flow(k.ref, case["layers"], case["dtype"])
    xr = x.clone().requires_grad_(True)
    ref.log_prob(xr).sum().backward()
    dt = case["dtype"]
    expect(out["x_grad"] is not None, "log_prob(x).sum().backward() must give x a gradient")
    _close(out["x_grad"], xr.grad, dt, "gradient of log_prob(x).sum() w.r.t. x")
    params = [p for net in nets for p in net.parameters()]
    for i, (got, p) in enumerate(zip(out["param_grads"], params)):
        want = p.grad if p.grad is not None else torch.zeros_like(p)
        if got is None:
            # No gradient at all is right only where the true gradient is zero everywhere
            # (e.g. a net whose outputs are all discarded by an all-ones mask).
            expect(not bool((want != 0).any()), f"net parameter #{i} got no gradient from log_prob")
            continue
        _close(got, want, dt, f"gradient of log_prob(x).sum() w.r.t. net parameter #{i}")
    expect(out["registered"] == out["n_params"],
           "Flow.parameters() must include every layer's net parameters (store layers in an "
           "nn.ModuleList, or an optimizer cannot train the flow)",
           expected=out["n_params"], got=out["registered"])


@one_thread_prop(weight=2, given={"case": flow_case(), "n": st.integers(1, 6), "seed": seeds()}, examples=8)
def sample_uses_generator(k, case, n, seed):
    """sample(n, dim, generator) = inverse(torch.randn(n, dim, generator=generator, dtype)), shape (n, dim)."""
    dim = len(case["layers"][0]["mask"])
    out = k.harness("flow_sample", case["layers"], case["dtype"], n, dim, seed).value
    ref = _ref_flow(k, case)
    with torch.no_grad():
        want = ref.sample(n, dim, generator=torch.Generator().manual_seed(seed))
    got = _tensor(out["sample"], "sample(n, dim, generator)")
    expect(str(got.dtype) == str(want.dtype), "samples must have the flow's parameter dtype",
           expected=str(want.dtype), got=str(got.dtype))
    _close(got, want, case["dtype"], "sample(n, dim, generator) (z must be torch.randn(n, dim, "
           "generator=generator, dtype=...), then inverted)")
    expect(out["free_shape"] == (n, dim), "sample(n, dim) without a generator must return shape (n, dim)",
           expected=(n, dim), got=out["free_shape"])


@one_thread_prop(weight=2, given={"case": flow_case()}, examples=6)
def shapes_and_dtypes(k, case):
    """Outputs keep x's shape (batch, D) and dtype; logdets and log_prob have shape (batch,)."""
    # Logdets need only be floating: an additive layer's exact zeros are right in any float dtype.
    x = _x(case)
    out = k.harness("flow_run", case["layers"], case["dtype"], x, x).value
    b, d = x.shape
    checks = [(out["fwd"][0], (b, d), "Flow.forward(x)[0]"), (out["inv"][0], (b, d), "Flow.inverse(z)[0]"),
              (out["fwd"][1], (b,), "Flow.forward(x) logdet"), (out["inv"][1], (b,), "Flow.inverse(z) logdet"),
              (out["log_prob"], (b,), "log_prob(x)")]
    for v, shape, what in checks:
        v = _tensor(v, what)
        expect(tuple(v.shape) == shape, f"{what} has the wrong shape", expected=shape, got=tuple(v.shape))
        if "logdet" in what:
            expect(v.is_floating_point(), f"{what} must be a floating-point tensor", got=str(v.dtype))
        else:
            expect(v.dtype == x.dtype, f"{what} must have x's dtype", expected=str(x.dtype), got=str(v.dtype))
    layer_case_ = {"layer": case["layers"][0], "dtype": case["dtype"], "batch": b,
                   "x_seed": case["x_seed"], "scale": case["scale"]}
    one = k.harness("layer_roundtrip", layer_case_["layer"], case["dtype"], x, x).value
    for v, shape, what in ((one["fwd"][0], (b, d), "layer forward(x)[0]"),
                           (one["fwd"][1], (b,), "layer forward(x) logdet")):
        v = _tensor(v, what)
        expect(tuple(v.shape) == shape, f"{what} has the wrong shape", expected=shape, got=tuple(v.shape))
