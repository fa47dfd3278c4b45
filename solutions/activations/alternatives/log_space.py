"""Style: everything from one stable primitive, softplus(z) = logaddexp(z, 0), and its exponentials (log-space formulation).

log_sigmoid(x) = -softplus(-x), sigmoid(x) = exp(log_sigmoid(x)), Φ(x) = exp(log_ndtr(x)). Going
through the log costs a relative error of |log value|·eps, which is exactly the error allowed
for the input's own rounding (the condition number), so the results stay within a few eps.
"""
import math

import torch

C = math.sqrt(2.0 / math.pi)
KAPPA = 0.044715


def _softplus0(z):
    return torch.logaddexp(z, torch.zeros_like(z))


def log_sigmoid(x):
    return -_softplus0(-x)


def sigmoid(x):
    return torch.exp(log_sigmoid(x))


def softplus(x, beta=1.0, threshold=20.0):
    z = x * beta
    return torch.where(z > threshold, x, _softplus0(z) / beta)


def _times_prob(x, log_p):
    """x·exp(log_p) with the limit 0 at x = -inf (where log_p = -inf)."""
    return torch.where(torch.isneginf(x), torch.zeros_like(x), x * torch.exp(log_p))


def _u(x):
    return C * (x + KAPPA * x ** 3)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return _times_prob(x, log_sigmoid(2 * _u(x)))
    if approximate == "none":
        return _times_prob(x, torch.special.log_ndtr(x))
    raise ValueError(f"unknown approximate={approximate!r}")


def silu(x):
    return _times_prob(x, log_sigmoid(x))


# log f'(x) of the functions whose derivative is a product of sigmoids, exponentiated once.
_LOG_DERIVATIVES = {
    "sigmoid": lambda x, beta, threshold: log_sigmoid(x) + log_sigmoid(-x),
    "log_sigmoid": lambda x, beta, threshold: log_sigmoid(-x),
    # above the threshold softplus is x itself: f' = 1, log f' = 0
    "softplus": lambda x, beta, threshold: log_sigmoid(x * beta).masked_fill(x * beta > threshold, 0.0),
}


def _derivative(name, x, beta=1.0, threshold=20.0, approximate="none"):
    if name in _LOG_DERIVATIVES:
        return torch.exp(_LOG_DERIVATIVES[name](x, beta, threshold))
    inf = torch.isinf(x)
    if name == "gelu":
        if approximate == "tanh":
            u = _u(x)
            du = C * (1 + 3 * KAPPA * x * x)
            # d/dx x·σ(2u) = σ(2u) + x·2σ(2u)σ(−2u)·u'
            d = sigmoid(2 * u) + 2 * x * du * torch.exp(log_sigmoid(2 * u) + log_sigmoid(-2 * u))
        else:
            log_pdf = -0.5 * x * x - 0.5 * math.log(2 * math.pi)
            d = torch.exp(torch.special.log_ndtr(x)) + x * torch.exp(log_pdf)
        return torch.where(inf, (x > 0).to(x.dtype), d)
    if name == "silu":
        d = sigmoid(x) + x * torch.exp(log_sigmoid(x) + log_sigmoid(-x))
        return torch.where(inf, (x > 0).to(x.dtype), d)
    raise ValueError(f"unknown activation {name!r}")


def activation_backward(name, x, grad_out, **kwargs):
    return grad_out * _derivative(name, x, **kwargs)


def swiglu_ffn(x, w1, w3, w2):
    a = torch.einsum("td,dh->th", x, w1)
    b = torch.einsum("td,dh->th", x, w3)
    y = torch.einsum("th,hd->td", silu(a) * b, w2)
    return y, (x, w1, w3, w2, a, b)


def swiglu_ffn_backward(saved, dy):
    x, w1, w3, w2, a, b = saved
    g = silu(a)
    dh = torch.einsum("td,hd->th", dy, w2)
    da = activation_backward("silu", a, dh * b)
    db = dh * g
    dx = torch.einsum("th,dh->td", da, w1) + torch.einsum("th,dh->td", db, w3)
    return (dx, torch.einsum("td,th->dh", x, da), torch.einsum("td,th->dh", x, db),
            torch.einsum("th,td->hd", g * b, dy))
