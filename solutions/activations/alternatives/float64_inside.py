"""Style: compute in float64 whatever the input dtype, round once at the end; torch's own kernel formulas (ATen Activation.cpp) wherever they are stable.

float32 inputs get float64 intermediates (the spec allows the round trip), so only the final
rounding matters for them; float64 inputs still need formulas without overflow or cancellation.
SiLU's derivative is ATen's s·(1 + x·(1 − s)): 1 − s keeps few bits near x = 36, but the product
x·(1 − s) is then small next to 1 (a few eps at most).
"""
import math

import torch

SQRT1_2 = 0.7071067811865476
K_BETA = math.sqrt(2) * (2 / math.sqrt(math.pi)) * 0.5
KAPPA = 0.044715


def _up(x):
    return x.to(torch.float64)


def _sig(x):
    e = torch.exp(-x.abs())
    r = 1 / (1 + e)
    return torch.where(x >= 0, r, e * r)


def sigmoid(x):
    return _sig(_up(x)).to(x.dtype)


def log_sigmoid(x):
    t = _up(x)
    return (torch.minimum(t, torch.zeros_like(t)) - torch.log1p(torch.exp(-t.abs()))).to(x.dtype)


def softplus(x, beta=1.0, threshold=20.0):
    t = _up(x)
    z = x * beta                       # the threshold test in x's dtype, as torch does it
    soft = (torch.relu(t * beta) + torch.log1p(torch.exp(-(t * beta).abs()))) / beta
    return torch.where(z > threshold, t, soft).to(x.dtype)


def _gelu64(t, approximate):
    if approximate == "tanh":
        inner = K_BETA * (t + KAPPA * t.pow(3))
        y = t * _sig(2 * inner)
    else:
        y = t * 0.5 * torch.erfc(-t * SQRT1_2)
    return torch.where(t == -math.inf, 0.0, y)


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(approximate)
    return _gelu64(_up(x), approximate).to(x.dtype)


def silu(x):
    t = _up(x)
    return torch.where(t == -math.inf, 0.0, t * _sig(t)).to(x.dtype)


def _inf_limits(t, d, lo, hi):
    return torch.where(torch.isinf(t), torch.where(t > 0, hi, lo).to(d.dtype), d)


def activation_backward(name, x, grad_out, **kwargs):
    t = _up(x)
    if name == "sigmoid":
        s = _sig(t)
        d = s * _sig(-t)
    elif name == "log_sigmoid":
        # ATen: (x < 0 ? 1 : 0) - sign * b / (1 + b), b = exp(-|x|), sign = +1 for x < 0
        b = torch.exp(-t.abs())
        neg = t < 0
        d = torch.where(neg, 1 - b / (1 + b), b / (1 + b))
    elif name == "softplus":
        beta, threshold = kwargs.get("beta", 1.0), kwargs.get("threshold", 20.0)
        z = x * beta
        d = torch.where(z > threshold, torch.ones_like(t), _sig(t * beta))
    elif name == "gelu":
        if kwargs.get("approximate", "none") == "tanh":
            inner = K_BETA * (t + KAPPA * t.pow(3))
            s2, s2n = _sig(2 * inner), _sig(-2 * inner)
            # ATen: 0.5(1 + tanh u) + 0.5 x (1 - tanh² u) k (1 + 3κx²), with 1 ± tanh u = 2σ(±2u)
            d = s2 + t * 2 * s2 * s2n * K_BETA * (1 + 3 * KAPPA * t * t)
        else:
            cdf = 0.5 * torch.erfc(-t * SQRT1_2)
            pdf = torch.exp(-0.5 * t * t) * (2 / math.sqrt(math.pi)) * SQRT1_2 * 0.5
            d = cdf + t * pdf
        d = _inf_limits(t, d, 0.0, 1.0)
    elif name == "silu":
        s = _sig(t)
        d = _inf_limits(t, s * (1 + t * (1 - s)), 0.0, 1.0)
    else:
        raise ValueError(name)
    return (_up(grad_out) * d).to(x.dtype)


def swiglu_ffn(x, w1, w3, w2):
    # The block too runs in float64: saved keeps the float64 operands, so backward starts from them.
    x64, w1_64, w3_64, w2_64 = map(_up, (x, w1, w3, w2))
    gate, up = x64 @ w1_64, x64 @ w3_64
    y = (silu(gate) * up) @ w2_64
    return y.to(x.dtype), (x64, w1_64, w3_64, w2_64, gate, up, x.dtype)


def swiglu_ffn_backward(saved, dy):
    x, w1, w3, w2, gate, up, dtype = saved
    dy = _up(dy)
    act = silu(gate)
    d_hidden = dy @ w2.t()
    d_up = d_hidden * act
    d_gate = activation_backward("silu", gate, d_hidden * up)
    grads = (d_gate @ w1.t() + d_up @ w3.t(), x.t() @ d_gate, x.t() @ d_up, (act * up).t() @ dy)
    return tuple(g.to(dtype) for g in grads)
