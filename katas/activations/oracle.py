"""The true values of the activations and their derivatives, in high precision (checker side).

Each function of x (a finite float) returns (f, f', f'') of the activation as Python floats,
computed with mpmath at 40 significant digits from formulas without cancellation, so the only
error is the final rounding to float64. f'' is used only for the tolerance (see suite.py). The
definitions are torch's (ATen) ones; where torch's kernels lose accuracy (GELU's left tail) the
exact mathematical value of the same definition is meant:

    sigmoid(x)      = 1 / (1 + e^-x)
    log_sigmoid(x)  = log(sigmoid(x))
    softplus(x)     = x if linear else log(1 + e^(beta x)) / beta
                      (linear = the dtype's beta*x > threshold, decided by the caller)
    gelu(x)         = x Φ(x),               Φ(x) = erfc(-x/√2) / 2
    gelu_tanh(x)    = x (1 + tanh(u)) / 2 = x sigmoid(2u),  u = √(2/π) (x + 0.044715 x³)
    silu(x)         = x sigmoid(x)
"""
from __future__ import annotations

import functools
import math

from mpmath import mp, mpf

DIGITS = 40
KAPPA = mpf("0.044715")

# Values at x = ±inf (the limits), for forward and derivative.
LIMITS = {
    "sigmoid": {"f": (0.0, 1.0), "d": (0.0, 0.0)},
    "log_sigmoid": {"f": (-math.inf, 0.0), "d": (1.0, 0.0)},
    "softplus": {"f": (0.0, math.inf), "d": (0.0, 1.0)},
    "gelu": {"f": (0.0, math.inf), "d": (0.0, 1.0)},
    "gelu_tanh": {"f": (0.0, math.inf), "d": (0.0, 1.0)},
    "silu": {"f": (0.0, math.inf), "d": (0.0, 1.0)},
}


def _sig(t):
    return 1 / (1 + mp.exp(-t))


def _sigmoid(x):
    s, sn = _sig(x), _sig(-x)
    return s, s * sn, s * sn * (sn - s)


def _log_sigmoid(x):
    s, sn = _sig(x), _sig(-x)
    return -mp.log1p(mp.exp(-x)), sn, -s * sn


def _softplus(x, beta, linear):
    if linear:
        return x, mpf(1), mpf(0)
    b = mpf(beta)
    z = b * x
    s, sn = _sig(z), _sig(-z)
    return mp.log1p(mp.exp(z)) / b, s, b * s * sn


def _gelu(x):
    cdf = mp.erfc(-x / mp.sqrt(2)) / 2
    pdf = mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)
    return x * cdf, cdf + x * pdf, pdf * (2 - x * x)


def _gelu_tanh(x):
    k = mp.sqrt(2 / mp.pi)
    u = k * (x + KAPPA * x ** 3)
    du, d2u = k * (1 + 3 * KAPPA * x * x), 6 * k * KAPPA * x
    s, sn = _sig(2 * u), _sig(-2 * u)
    ss = s * sn                                   # sigmoid'(2u)
    return (x * s, s + 2 * x * ss * du,
            4 * ss * du + 2 * x * (2 * ss * (sn - s) * du * du + ss * d2u))


def _silu(x):
    s, sn = _sig(x), _sig(-x)
    return x * s, s * (1 + x * sn), s * sn * (2 + x * (sn - s))


@functools.lru_cache(maxsize=1 << 16)
def exact(name: str, x: float, beta: float = 1.0, linear: bool = False):
    """(f(x), f'(x), f''(x)) as floats, for a finite x."""
    with mp.workdps(DIGITS):
        t = mpf(x)
        if name == "sigmoid":
            out = _sigmoid(t)
        elif name == "log_sigmoid":
            out = _log_sigmoid(t)
        elif name == "softplus":
            out = _softplus(t, beta, linear)
        elif name == "gelu":
            out = _gelu(t)
        elif name == "gelu_tanh":
            out = _gelu_tanh(t)
        elif name == "silu":
            out = _silu(t)
        else:
            raise KeyError(name)
        return tuple(float(v) for v in out)
