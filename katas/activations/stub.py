"""Activations, forward and backward, by hand. Read the task with `kata show activations`."""
import math

import torch


def sigmoid(x):
    """1 / (1 + e^-x), elementwise; same shape and dtype as x."""
    raise NotImplementedError("sigmoid: write your solution here")


def log_sigmoid(x):
    """log(sigmoid(x)), elementwise."""
    raise NotImplementedError("log_sigmoid: write your solution here")


def softplus(x, beta=1.0, threshold=20.0):
    """x where beta*x > threshold, else log1p(exp(beta*x)) / beta (torch semantics)."""
    raise NotImplementedError("softplus: write your solution here")


def gelu(x, approximate="none"):
    """"none": x·Φ(x); "tanh": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    raise NotImplementedError("gelu: write your solution here")


def silu(x):
    """x·sigmoid(x)."""
    raise NotImplementedError("silu: write your solution here")


def activation_backward(name, x, grad_out, **kwargs):
    """grad_out·f'(x) for f = name ("sigmoid", "log_sigmoid", "softplus", "gelu", "silu"), by hand.
    kwargs are f's own (beta, threshold for softplus; approximate for gelu)."""
    raise NotImplementedError("activation_backward: write your solution here")


def swiglu_ffn(x, w1, w3, w2):
    """x (T, d), w1 and w3 (d, h), w2 (h, d). Return (y, saved) with
    y = (silu(x @ w1) * (x @ w3)) @ w2 and saved whatever swiglu_ffn_backward needs."""
    raise NotImplementedError("swiglu_ffn: write your solution here")


def swiglu_ffn_backward(saved, dy):
    """Gradients (dx, dw1, dw3, dw2) of Σ y·dy, from swiglu_ffn's saved."""
    raise NotImplementedError("swiglu_ffn_backward: write your solution here")
