"""The activations kata's oracle and tolerance: the derivatives are the derivatives, the limits are
the limits, and the reference meets the bound the suite applies (in process, no worker)."""
import importlib.util
import math
from pathlib import Path

import pytest
import torch
from mpmath import diff, mp, mpf

from katas.activations import oracle
from katas.activations.suite import EPS, K_BACKWARD, K_FORWARD, LIMITS, TINY, exact

ROOT = Path(__file__).resolve().parents[2]
FORMS = {"sigmoid": oracle._sigmoid, "log_sigmoid": oracle._log_sigmoid, "gelu": oracle._gelu,
         "gelu_tanh": oracle._gelu_tanh, "silu": oracle._silu,
         "softplus": lambda t: oracle._softplus(t, 1.7, False)}


def _reference():
    spec = importlib.util.spec_from_file_location("act_ref", ROOT / "solutions/activations/reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(FORMS))
@pytest.mark.parametrize("x", [-7.5, -1.3, -0.2, 0.6, 3.1])
def test_derivatives_match_numerical_differentiation(name, x):
    with mp.workdps(40):
        f, d1, d2 = FORMS[name](mpf(x))
        g = lambda t: FORMS[name](t)[0]
        assert abs(d1 - diff(g, mpf(x), 1)) <= mpf(10) ** -30 * (1 + abs(d1))
        assert abs(d2 - diff(g, mpf(x), 2)) <= mpf(10) ** -25 * (1 + abs(d2))


@pytest.mark.parametrize("name", sorted(FORMS))
def test_limits_are_approached(name):
    lo, hi = exact(name if name != "softplus" else "softplus", -800.0, 1.0), exact(name, 800.0, 1.0)
    f_lo, f_hi = LIMITS[name]["f"]
    d_lo, d_hi = LIMITS[name]["d"]
    assert abs(lo[1] - d_lo) < 1e-12 and abs(hi[1] - d_hi) < 1e-12
    assert (lo[0] == f_lo or abs(lo[0] - f_lo) < 1e-12 or (math.isinf(f_lo) and lo[0] < -700))
    assert (hi[0] == f_hi or abs(hi[0] - f_hi) < 1e-12 or (math.isinf(f_hi) and hi[0] > 700))


def test_known_tail_values():
    assert exact("gelu", -10.0)[0] == pytest.approx(-7.619853024160526e-23, rel=1e-15)
    assert exact("sigmoid", -700.0)[0] == pytest.approx(9.85967654375977e-305, rel=1e-15)
    assert exact("softplus", -40.0)[0] == pytest.approx(4.248354255291589e-18, rel=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reference_within_the_bound(dtype):
    ref = _reference()
    mags = torch.logspace(-6, 4, 60, dtype=torch.float64).tolist()
    xs = torch.tensor(sorted(mags + [-m for m in mags] + [0.0, 0.75, -1.28, 36.5]),
                      dtype=getattr(torch, dtype))
    for key, fn, kw in [("sigmoid", "sigmoid", {}), ("log_sigmoid", "log_sigmoid", {}),
                        ("softplus", "softplus", {}), ("gelu", "gelu", {}),
                        ("gelu_tanh", "gelu", {"approximate": "tanh"}), ("silu", "silu", {})]:
        fwd = getattr(ref, fn)(xs, **kw).double().tolist()
        bwd = ref.activation_backward(fn, xs, torch.ones_like(xs), **kw).double().tolist()
        for x, f_got, d_got in zip(xs.double().tolist(), fwd, bwd):
            f, d1, d2 = exact(key, x, 1.0, key == "softplus" and x > 20.0)
            sub = 2 * (1 + abs(x)) * TINY[dtype]
            assert abs(f_got - f) <= K_FORWARD * EPS[dtype] * (abs(f) + abs(x * d1)) + sub, (key, x)
            assert abs(d_got - d1) <= K_BACKWARD * EPS[dtype] * (abs(d1) + abs(x * d2)) + sub, (key, x)
