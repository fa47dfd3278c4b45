"""Seeded layer stacks for torch katas, call counting, and memory measured around a run.

The checker and the worker build the *same* stack from one plain-data recipe (like
torch_builders), so a suite can run the plain stack itself and compare with what the attempt did
in the worker. `run_stack` is shared by both sides: one code path for the plain run (checker) and
the attempt's run (worker harness), so any difference comes from the attempt.

A recipe is a dict:
    {"layers": [spec, ...], "dtype": "float64", "x_shape": [B, D], "x_seed": int,
     "x_grad": bool, "rng_seed": int, "up_seed": int}
Layer specs (lists, so they cross the worker boundary unchanged):
    ["linear", d, seed, frozen]           nn.Linear(d, d)
    ["act", "tanh"|"gelu"|"sigmoid"|"relu"]
    ["dropout", p]                        nn.Dropout(p), in training mode
    ["block", d, hidden, p, seed, frozen] Linear(d, hidden) -> GELU -> Dropout(p) -> Linear(hidden, d)
    ["fn", "sin"|"tanh"]                  a plain Python function, not an nn.Module
"""
from __future__ import annotations

import contextlib
import gc

import torch

from checker.probes import PeakMemory
from katas._shared.torch_builders import dtype_of, seeded_tensor


class Counted(torch.nn.Module):
    """An nn.Module that counts its forward calls (the wrapped layer is a submodule, so
    `.parameters()` still yields its parameters)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.inner(x)


class CountedFn:
    """A plain callable (not an nn.Module) that counts its calls."""

    def __init__(self, fn):
        self.fn = fn
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return self.fn(x)


def _linear(d_in, d_out, gen, dtype):
    lin = torch.nn.Linear(d_in, d_out, dtype=dtype)
    with torch.no_grad():
        bound = 1.5 / d_in ** 0.5  # a bit above default init, so tanh/gelu stay non-linear
        lin.weight.copy_((torch.rand(d_out, d_in, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
        lin.bias.copy_((torch.rand(d_out, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
    return lin


_ACTS = {"tanh": torch.nn.Tanh, "gelu": torch.nn.GELU, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}
_FNS = {"sin": torch.sin, "tanh": torch.tanh}


def build_layer(spec, dtype="float64"):
    kind, dt = spec[0], dtype_of(dtype)
    if kind == "linear":
        _, d, seed, frozen = spec
        m = _linear(d, d, torch.Generator().manual_seed(int(seed)), dt)
    elif kind == "act":
        m = _ACTS[spec[1]]()
    elif kind == "dropout":
        m = torch.nn.Dropout(float(spec[1]))
    elif kind == "block":
        _, d, hidden, p, seed, frozen = spec
        g = torch.Generator().manual_seed(int(seed))
        m = torch.nn.Sequential(_linear(d, hidden, g, dt), torch.nn.GELU(), torch.nn.Dropout(float(p)),
                                _linear(hidden, d, g, dt))
    elif kind == "fn":
        return CountedFn(_FNS[spec[1]])
    else:
        raise ValueError(f"unknown layer kind {kind!r}")
    if kind in ("linear", "block") and frozen:
        for p in m.parameters():
            p.requires_grad_(False)
    m.train()
    return Counted(m)


def build_stack(recipe):
    return [build_layer(spec, recipe.get("dtype", "float64")) for spec in recipe["layers"]]


def parameters_of(layers):
    """Every parameter of the stack, in layer order (frozen ones included)."""
    return [p for layer in layers if isinstance(layer, torch.nn.Module) for p in layer.parameters()]


def run_stack(recipe, forward, *, segments=None, measure=False):
    """Build the stack from `recipe`, run `forward(layers, x)` (or `forward(layers, segments, x)`),
    then `.backward()` with a seeded upstream gradient. Returns plain data:
    out, out_requires_grad, x_grad, grads (one per parameter, None where none), calls per layer
    after the forward and after the backward, and with measure=True the memory the forward leaves
    alive (without the result itself) and the peak over forward + backward, both in bytes above
    the level before the forward (checker.probes.PeakMemory: every byte resident, whichever
    library or hook allocated it)."""
    layers = build_stack(recipe)
    dtype = recipe.get("dtype", "float64")
    x = seeded_tensor(recipe["x_shape"], dtype, recipe["x_seed"], requires_grad=recipe["x_grad"])
    params = parameters_of(layers)
    # The upstream gradient exists before the measurement (layers map d to d: out has x's shape).
    up = seeded_tensor(tuple(x.shape), dtype, recipe["up_seed"])
    torch.manual_seed(int(recipe["rng_seed"]))
    result = {}
    whole = PeakMemory() if measure else contextlib.nullcontext()
    fwd = PeakMemory() if measure else contextlib.nullcontext()
    if measure:
        # Park every object that already exists out of the collector's sight, so the collection
        # that ends the forward scans only the new ones (a full gc with torch loaded is ~0.15 s).
        gc.freeze()
    try:
        with whole:
            with fwd:
                out = forward(layers, x) if segments is None else forward(layers, segments, x)
                if measure:
                    gc.collect()  # reference cycles (ctx objects, closures) would be freed later anyway
            if not isinstance(out, torch.Tensor):
                return {"error": f"returned {type(out).__name__}, not a Tensor"}
            result["calls_forward"] = [layer.calls for layer in layers]
            result["out_requires_grad"] = bool(out.requires_grad)
            if out.requires_grad:
                if tuple(out.shape) != tuple(up.shape):
                    dt = str(out.dtype).replace("torch.", "")
                    up = seeded_tensor(tuple(out.shape), dt, recipe["up_seed"])
                # sum(out * up) backpropagates exactly `up` into out (1.0 * up), and unlike
                # out.backward(up) it does not import sympy on first use (0.8 s).
                (out * up).sum().backward()
    finally:
        if measure:
            gc.unfreeze()
    if measure:
        alive = fwd.result()["end_bytes"]
        result["retained"] = max(0, alive - out.untyped_storage().nbytes())
        result["peak"] = whole.result()["peak_bytes"]
    result["calls"] = [layer.calls for layer in layers]
    result["out"] = out.detach()
    result["x_grad"] = None if x.grad is None else x.grad.detach()
    result["grads"] = [None if p.grad is None else p.grad.detach() for p in params]
    result["names"] = [f"layers[{i}].{name}" for i, layer in enumerate(layers)
                       if isinstance(layer, torch.nn.Module)
                       for name, _ in layer.inner.named_parameters()]
    return result


def plain(layers, x):
    for layer in layers:
        x = layer(x)
    return x
