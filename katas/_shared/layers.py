"""Seeded layer stacks for torch katas, call counting, and a saved-for-backward memory tracker.

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

import gc
import weakref

import torch

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


class SavedBytes:
    """Bytes of tensor storage saved for backward that are still alive: now, and at peak.

    Inside `with SavedBytes(...)`, torch.autograd.graph.saved_tensors_hooks sees every tensor
    autograd saves: by built-in ops, and by the attempt's own autograd.Function
    (ctx.save_for_backward), also during a recompute inside backward. Each storage is tracked
    through a weakref, so it counts for as long as anything keeps it alive. `retained` also adds
    tensors stored as attributes of a custom Function's ctx (ctx.x = x), found by walking the
    graph. Storages that existed before (inputs, parameters) are excluded; views share their
    storage and count once. An attempt that installs its own saved-tensor hooks hides what its
    hooks keep: that can only under-count, never fail a correct attempt.
    """

    def __init__(self, exclude=()):
        self.live = 0
        self.peak = 0
        self._refs = {}
        self._skip = {t.untyped_storage()._cdata for t in exclude if t is not None}
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, _unpack)

    def __enter__(self):
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self._hooks.__exit__(*exc)

    def exclude(self, *tensors):
        self._skip.update(t.untyped_storage()._cdata for t in tensors)

    def _forget(self, key, nbytes):
        if self._refs.pop(key, None) is not None:
            self.live -= nbytes

    def _track(self, t):
        if not isinstance(t, torch.Tensor) or t.layout != torch.strided:
            return
        s = t.untyped_storage()
        key = s._cdata
        if key in self._skip or key in self._refs:
            return
        n = s.nbytes()
        self._refs[key] = weakref.ref(s, lambda _r, key=key, n=n: self._forget(key, n))
        self.live += n
        self.peak = max(self.peak, self.live)

    def _pack(self, t):
        self._track(t)
        return t

    def retained(self, out):
        """Tracked bytes alive after the forward, plus tensors on ctx attributes, minus `out`."""
        gc.collect()  # reference cycles (ctx objects, closures) would be freed later anyway
        seen, stack = set(), [out.grad_fn]
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            for value in getattr(node, "__dict__", {}).values():
                for t in value if isinstance(value, (list, tuple)) else (value,):
                    self._track(t)
            stack.extend(fn for fn, _ in node.next_functions)
        key = out.untyped_storage()._cdata
        minus = out.untyped_storage().nbytes() if key in self._refs else 0
        return self.live - minus


def _unpack(t):
    return t


def run_stack(recipe, forward, *, segments=None, measure=False):
    """Build the stack from `recipe`, run `forward(layers, x)` (or `forward(layers, segments, x)`),
    then `.backward()` with a seeded upstream gradient. Returns plain data:
    out, out_requires_grad, x_grad, grads (one per parameter, None where none), calls per layer
    after the forward and after the backward, and with measure=True the tracked bytes alive right
    after the forward (without the result itself) and at peak over forward + backward."""
    layers = build_stack(recipe)
    dtype = recipe.get("dtype", "float64")
    x = seeded_tensor(recipe["x_shape"], dtype, recipe["x_seed"], requires_grad=recipe["x_grad"])
    params = parameters_of(layers)
    up = None
    torch.manual_seed(int(recipe["rng_seed"]))
    mode = SavedBytes(exclude=[x, *params]) if measure else None
    result = {}
    if mode is not None:
        # Park every object that already exists out of the collector's sight, so the collection
        # that ends the forward scans only the new ones (a full gc with torch loaded is ~0.15 s).
        gc.freeze()
        mode.__enter__()
    try:
        out = forward(layers, x) if segments is None else forward(layers, segments, x)
        if not isinstance(out, torch.Tensor):
            return {"error": f"returned {type(out).__name__}, not a Tensor"}
        if measure:
            result["retained"] = mode.retained(out)
        result["calls_forward"] = [layer.calls for layer in layers]
        result["out_requires_grad"] = bool(out.requires_grad)
        if out.requires_grad:
            up = seeded_tensor(tuple(out.shape), str(out.dtype).replace("torch.", ""), recipe["up_seed"])
            if mode is not None:
                mode.exclude(out, up)   # the loss's own saves are not the attempt's
            # sum(out * up) backpropagates exactly `up` into out (1.0 * up), and unlike
            # out.backward(up) it does not import sympy on first use (0.8 s).
            (out * up).sum().backward()
    finally:
        if mode is not None:
            mode.__exit__(None, None, None)
            gc.unfreeze()
    if measure:
        result["peak"] = mode.peak
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
