"""Reference solution for activations: stable forms that stay accurate over the whole float range.

The rule behind every formula: never subtract two nearly equal numbers, and never form a number
that overflows when the result does not. So
- sigmoid uses e = exp(-|x|) (in (0, 1], never overflows): 1/(1+e) for x >= 0, e/(1+e) for x < 0;
- log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|)) (log(sigmoid(x)) is -inf at -1000 and loses digits
  at +30, where sigmoid(x) rounds to 1 - ulp);
- softplus(z) = max(z, 0) + log1p(exp(-|z|)) below the threshold (no overflow even for a large
  threshold, no 1 + tiny = 1 in the left tail);
- GELU's Φ(x) = erfc(-x/√2)/2 (1 + erf(x/√2) cancels to 0 in the left tail), and the tanh form's
  (1 + tanh(u))/2 = sigmoid(2u) (same cancellation);
- derivatives use sigmoid(-x) for 1 - sigmoid(x).
Limits at ±inf are written out where x * (something that is 0) would give inf * 0 = NaN.
"""
import math

import torch

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K_BETA = math.sqrt(2.0 / math.pi)   # the tanh form's sqrt(2/π), as ATen's M_SQRT2*M_2_SQRTPI*0.5
_KAPPA = 0.044715


def sigmoid(x):
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def log_sigmoid(x):
    return torch.clamp(x, max=0) - torch.log1p(torch.exp(-x.abs()))


def _softplus_soft(z):
    return torch.clamp(z, min=0) + torch.log1p(torch.exp(-z.abs()))


def softplus(x, beta=1.0, threshold=20.0):
    z = x * beta
    # torch semantics: strictly above the threshold the result is x itself (not z / beta).
    return torch.where(z > threshold, x, _softplus_soft(z) / beta)


def _at_minus_inf_zero(x, y):
    """y, with the limit 0 at x = -inf where x * 0 gave NaN."""
    return torch.where(x == -math.inf, torch.zeros_like(y), y)


def _tanh_u(x):
    return _K_BETA * (x + _KAPPA * x * x * x)


def gelu(x, approximate="none"):
    if approximate == "none":
        y = 0.5 * x * torch.erfc(-x * _SQRT1_2)
    elif approximate == "tanh":
        y = x * sigmoid(2 * _tanh_u(x))       # 0.5·x·(1 + tanh(u)) = x·sigmoid(2u)
    else:
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return _at_minus_inf_zero(x, y)


def silu(x):
    return _at_minus_inf_zero(x, x * sigmoid(x))


def _limits(x, d, at_minus_inf, at_plus_inf):
    """d, with its limits at ±inf (where a finite formula gives inf * 0)."""
    d = torch.where(x == -math.inf, torch.full_like(d, at_minus_inf), d)
    return torch.where(x == math.inf, torch.full_like(d, at_plus_inf), d)


def _derivative(name, x, beta=1.0, threshold=20.0, approximate="none"):
    if name == "sigmoid":
        return sigmoid(x) * sigmoid(-x)
    if name == "log_sigmoid":
        return sigmoid(-x)
    if name == "softplus":
        z = x * beta
        return torch.where(z > threshold, torch.ones_like(x), sigmoid(z))
    if name == "gelu":
        if approximate == "none":
            pdf = torch.exp(-0.5 * x * x) * _INV_SQRT_2PI
            d = 0.5 * torch.erfc(-x * _SQRT1_2) + x * pdf
        elif approximate == "tanh":
            s, s_neg = sigmoid(2 * _tanh_u(x)), sigmoid(-2 * _tanh_u(x))
            d = s + 2 * x * s * s_neg * _K_BETA * (1 + 3 * _KAPPA * x * x)
        else:
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        return _limits(x, d, 0.0, 1.0)
    if name == "silu":
        s = sigmoid(x)
        return _limits(x, s * (1 + x * sigmoid(-x)), 0.0, 1.0)
    raise ValueError(f"unknown activation {name!r}")


def activation_backward(name, x, grad_out, **kwargs):
    return grad_out * _derivative(name, x, **kwargs)


def swiglu_ffn(x, w1, w3, w2):
    a, b = x @ w1, x @ w3          # gate and up projections, (T, h)
    g = silu(a)
    y = (g * b) @ w2               # down projection, (T, d)
    return y, (x, w1, w3, w2, a, b, g)


def swiglu_ffn_backward(saved, dy):
    x, w1, w3, w2, a, b, g = saved
    hidden = g * b
    dw2 = hidden.T @ dy            # (h, d)
    dh = dy @ w2.T                 # (T, h)
    db = dh * g
    da = dh * b * _derivative("silu", a)
    dx = da @ w1.T + db @ w3.T
    return dx, x.T @ da, x.T @ db, dw2
