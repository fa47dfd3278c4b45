"""Native dtype throughout (no float64 upcast): logaddexp, exp(special.log_ndtr), a dict of derivative functions."""
import math
import torch

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
C = 0.044715


def sigmoid(x):
    e = torch.exp(-torch.abs(x))
    pos = 1 / (1 + e)
    return torch.where(x >= 0, pos, e * pos)


def log_sigmoid(x):
    return -torch.logaddexp(torch.zeros_like(x), -x)


def softplus(x, beta=1.0, threshold=20.0):
    bx = x * beta
    return torch.where(bx > threshold, x, torch.logaddexp(torch.zeros_like(x), bx) / beta)


def _zero_at_minus_inf(x, y):
    return torch.where(torch.isneginf(x), torch.zeros_like(y), y)


def gelu(x, approximate="none"):
    if approximate == "none":
        return _zero_at_minus_inf(x, x * torch.exp(torch.special.log_ndtr(x)))
    if approximate == "tanh":
        u = SQRT_2_OVER_PI * (x + C * x ** 3)
        return _zero_at_minus_inf(x, x * sigmoid(2 * u))
    raise ValueError(f"approximate={approximate!r}")


def silu(x):
    return _zero_at_minus_inf(x, x * sigmoid(x))


def _limits(x, d):
    return torch.where(torch.isposinf(x), torch.ones_like(d), torch.where(torch.isneginf(x), torch.zeros_like(d), d))


def _d_sigmoid(x):
    return sigmoid(x) * sigmoid(-x)


def _d_gelu(x, approximate="none"):
    if approximate == "tanh":
        u = SQRT_2_OVER_PI * (x + C * x ** 3)
        du = SQRT_2_OVER_PI * (1 + 3 * C * x * x)
        return _limits(x, sigmoid(2 * u) + 2 * x * du * _d_sigmoid(2 * u))
    pdf = torch.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    return _limits(x, torch.exp(torch.special.log_ndtr(x)) + x * pdf)


def _d_softplus(x, beta=1.0, threshold=20.0):
    return torch.where(x * beta > threshold, torch.ones_like(x), sigmoid(x * beta))


_DERIVATIVES = {
    "sigmoid": lambda x: _d_sigmoid(x),
    "log_sigmoid": lambda x: sigmoid(-x),
    "softplus": _d_softplus,
    "gelu": _d_gelu,
    "silu": lambda x: _limits(x, sigmoid(x) * (1 + x * sigmoid(-x))),
}


def activation_backward(name, x, grad_out, **kwargs):
    if name not in _DERIVATIVES:
        raise ValueError(f"unknown activation {name!r}")
    return grad_out * _DERIVATIVES[name](x, **kwargs)


def swiglu_ffn(x, w1, w3, w2):
    gate, up = x @ w1, x @ w3
    act = silu(gate)
    return (act * up) @ w2, {"x": x, "w1": w1, "w3": w3, "w2": w2, "gate": gate, "up": up, "act": act}


def swiglu_ffn_backward(saved, dy):
    x, w1, w3, w2 = saved["x"], saved["w1"], saved["w3"], saved["w2"]
    gate, up, act = saved["gate"], saved["up"], saved["act"]
    dw2 = torch.einsum("th,td->hd", act * up, dy)
    dhid = torch.einsum("td,hd->th", dy, w2)
    dgate = dhid * up * activation_backward("silu", gate, torch.ones_like(gate))
    dup = dhid * act
    dx = dgate @ w1.T + dup @ w3.T
    return dx, x.T @ dgate, x.T @ dup, dw2
