"""Style: split the input by boolean masks and use, on each part, the textbook formula that is exact there (erfcx for GELU's left tail, tanh on the right).

x >= 0 and x < 0 are handled separately, each written to index only its own elements, so no
branch ever evaluates the formula that would overflow or cancel on the other side.
"""
import math

import torch

SQRT2 = math.sqrt(2.0)
K = math.sqrt(2.0 / math.pi)
KAPPA = 0.044715


def _split(x, on_pos, on_neg):
    """on_pos(x[x >= 0]) and on_neg(x[x < 0]) put together; NaN stays NaN."""
    out = x.clone()
    pos, neg = x >= 0, x < 0
    out[pos] = on_pos(x[pos])
    out[neg] = on_neg(x[neg])
    return out


def sigmoid(x):
    return _split(x, lambda t: 1 / (1 + torch.exp(-t)), lambda t: torch.exp(t) / (1 + torch.exp(t)))


def log_sigmoid(x):
    return _split(x, lambda t: -torch.log1p(torch.exp(-t)), lambda t: t - torch.log1p(torch.exp(t)))


def softplus(x, beta=1.0, threshold=20.0):
    z = x * beta
    out = _split(z, lambda t: t + torch.log1p(torch.exp(-t)), lambda t: torch.log1p(torch.exp(t))) / beta
    lin = z > threshold
    out[lin] = x[lin]
    return out


def _cdf(x):
    """Φ: 1 - erfc(x/√2)/2 on the right; erfcx(-x/√2)·exp(-x²/2)/2 on the left (no underflowing
    factor times an overflowing one: erfcx is at most 1 there)."""
    def left(t):
        y = torch.special.erfcx(-t / SQRT2) * torch.exp(-0.5 * t * t) / 2
        return torch.where(torch.isinf(t), torch.zeros_like(t), y)
    return _split(x, lambda t: 1 - torch.erfc(t / SQRT2) / 2, left)


def _half_one_plus_tanh(u):
    """(1 + tanh(u))/2: directly for u >= 0, e^(2u)/(1 + e^(2u)) for u < 0."""
    return _split(u, lambda t: (1 + torch.tanh(t)) / 2, lambda t: torch.exp(2 * t) / (1 + torch.exp(2 * t)))


def _u(x):
    return K * (x + KAPPA * x * x * x)


def _x_times(x, p):
    """x·p with the limit 0 at x = -inf."""
    out = x * p
    out[x == -math.inf] = 0.0
    return out


def gelu(x, approximate="none"):
    if approximate == "none":
        return _x_times(x, _cdf(x))
    if approximate == "tanh":
        return _x_times(x, _half_one_plus_tanh(_u(x)))
    raise ValueError(approximate)


def silu(x):
    return _x_times(x, sigmoid(x))


def _fix_inf(x, d, lo, hi):
    d[x == -math.inf] = lo
    d[x == math.inf] = hi
    return d


def activation_backward(name, x, grad_out, beta=1.0, threshold=20.0, approximate="none"):
    if name == "sigmoid":
        d = sigmoid(x) * sigmoid(-x)
    elif name == "log_sigmoid":
        d = sigmoid(-x)
    elif name == "softplus":
        d = sigmoid(x * beta)
        d[x * beta > threshold] = 1.0
    elif name == "gelu" and approximate == "none":
        pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        d = _fix_inf(x, _cdf(x) + x * pdf, 0.0, 1.0)
    elif name == "gelu":
        u = _u(x)
        p, q = _half_one_plus_tanh(u), _half_one_plus_tanh(-u)
        d = _fix_inf(x, p + 2 * x * p * q * K * (1 + 3 * KAPPA * x * x), 0.0, 1.0)
    elif name == "silu":
        s = sigmoid(x)
        d = _fix_inf(x, s + x * s * sigmoid(-x), 0.0, 1.0)
    else:
        raise ValueError(name)
    return grad_out * d


def swiglu_ffn(x, w1, w3, w2):
    a = torch.matmul(x, w1)
    b = torch.matmul(x, w3)
    h = silu(a) * b
    return torch.matmul(h, w2), [x, w1, w3, w2, a, b, h]


def swiglu_ffn_backward(saved, dy):
    x, w1, w3, w2, a, b, h = saved
    dh = torch.matmul(dy, w2.transpose(0, 1))
    db = dh * silu(a)
    da = activation_backward("silu", a, dh * b)
    dx = torch.matmul(da, w1.transpose(0, 1)) + torch.matmul(db, w3.transpose(0, 1))
    dw1 = torch.matmul(x.transpose(0, 1), da)
    dw3 = torch.matmul(x.transpose(0, 1), db)
    dw2 = torch.matmul(h.transpose(0, 1), dy)
    return dx, dw1, dw3, dw2
