"""Worker-side glue for activations: call the attempt under torch.no_grad and report what it did.

Every call returns the attempt's value together with what could be observed while it ran: the
aten operators it dispatched (checker.probes.TensorSizes), and any use of autograd: tensors
saved for a backward pass (a saved-tensors hook; building an autograd graph saves some) or a
result attached to a graph. It measures only; the suite judges.
"""
from __future__ import annotations

import torch
from torch.autograd.graph import saved_tensors_hooks

from checker.probes import TensorSizes

# Tensors here have at most a few dozen elements: intra-op threads only add hand-off costs.
torch.set_num_threads(1)


def _tensors(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


def _plain(value):
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


def _observed(run):
    """run() under no_grad with the probes; returns (value, observations)."""
    packed = [0]

    def pack(t):
        packed[0] += 1
        return t

    sizes = TensorSizes()
    with torch.no_grad(), saved_tensors_hooks(pack, lambda t: t), sizes:
        value = run()
    graph = any(t.requires_grad or t.grad_fn is not None for t in _tensors(value))
    # Reported as text (empty: no autograd seen), so that no number in the report can be
    # mistaken for a result value by a reproduction script looking for one.
    seen = [f"{packed[0]} tensors saved for a backward pass"] if packed[0] else []
    seen += ["a result attached to an autograd graph"] if graph else []
    return value, {"ops": sizes.result()["ops"], "autograd": "; ".join(seen)}


def call(attempt, fn, *args, **kwargs):
    """attempt.fn(*args, **kwargs): {"value", "ops", "autograd"}."""
    value, seen = _observed(lambda: getattr(attempt, fn)(*args, **kwargs))
    return {"value": _plain(value), **seen}


def ffn(attempt, x, w1, w3, w2, dy):
    """y, saved = swiglu_ffn(x, w1, w3, w2); grads = swiglu_ffn_backward(saved, dy).

    `saved` never leaves the worker, so it may hold anything. Returns {"y", "grads", "error",
    "ops", "autograd"}; "error" says what was wrong with the forward's return value."""
    state = {}

    def run():
        out = attempt.swiglu_ffn(x, w1, w3, w2)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            state["error"] = f"swiglu_ffn must return a pair (y, saved), got {type(out).__name__}"
            return None
        return out[0], attempt.swiglu_ffn_backward(out[1], dy)

    value, seen = _observed(run)
    y, grads = value if value is not None else (None, None)
    return {"y": _plain(y), "grads": _plain(grads), "error": state.get("error"), **seen}
