"""Worker-side glue for moe_routing: builds the experts from a plain recipe, records how the
attempt calls them, runs moe_layer (and its backward) or load_balancing_loss, and reports.
It measures only; the suite judges.

The suite imports `build_experts` too, so the dense reference in the checker runs exactly the
experts the attempt got (same seeds, same weights, same dtype).

An experts recipe: {"E": int, "d": int, "seed": int, "hidden": int, "depth": int, "act": str}.
"""
import torch

from checker.probes import PeakMemory, TensorSizes
from katas._shared.torch_builders import seeded_mlp

# Small tensors and many tiny ops: thread hand-offs cost more than the math on a busy machine.
torch.set_num_threads(1)


def build_experts(recipe, dtype):
    """E seeded MLPs (d -> d), expert e from seed recipe["seed"] + e; dtype a name or torch dtype."""
    dtype = str(dtype).replace("torch.", "")
    return [seeded_mlp(recipe["seed"] + e, recipe["d"], recipe["d"], hidden=recipe["hidden"],
                       depth=recipe["depth"], act=recipe["act"], dtype=dtype)
            for e in range(recipe["E"])]


class Recorded(torch.nn.Module):
    """An expert that records the number of rows of each call (its parameters stay reachable)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.rows = []

    def forward(self, x):
        self.rows.append(int(x.shape[0]) if isinstance(x, torch.Tensor) and x.dim() else -1)
        return self.inner(x)


def _plain(v):
    return v.detach() if isinstance(v, torch.Tensor) else v


def layer_run(attempt, x, router_weight, recipe, k, upstream, **kwargs):
    """moe_layer(x, router_weight, experts, k, **kwargs), then (y · upstream).sum() backward.

    Returns y, the gradients of x, router_weight and every expert parameter (expert order, then
    parameter order; None where none arrived), the rows of each expert's calls, and whether y
    was attached to the autograd graph at all."""
    experts = [Recorded(m) for m in build_experts(recipe, x.dtype)]
    x = x.clone().requires_grad_(True)
    w = router_weight.clone().requires_grad_(True)
    y = attempt.moe_layer(x, w, experts, k, **kwargs)
    calls = [list(e.rows) for e in experts]
    graph = isinstance(y, torch.Tensor) and y.requires_grad
    if graph:
        (y * upstream).sum().backward()
    params = [p for e in experts for p in e.parameters()]
    return {"y": _plain(y), "graph": graph, "calls": calls,
            "x_grad": _plain(x.grad), "w_grad": _plain(w.grad),
            "param_grads": [_plain(p.grad) for p in params]}


def layer_memory(attempt, x, router_weight, recipe, k, **kwargs):
    """moe_layer under both memory probes, without autograd (the forward's own memory only):
    peak bytes alive from any library (PeakMemory) and the largest torch tensor (TensorSizes)."""
    experts = [Recorded(m) for m in build_experts(recipe, x.dtype)]
    peak, sizes = PeakMemory(), TensorSizes()
    with torch.no_grad(), peak, sizes:
        y = attempt.moe_layer(x, router_weight, experts, k, **kwargs)
    return {"y": _plain(y), "sizes": sizes.result(), "peak": peak.result()}


def aux_loss_run(attempt, logits, experts, num_experts):
    """load_balancing_loss and its gradient with respect to the logits (None without a graph)."""
    logits = logits.clone().requires_grad_(True)
    loss = attempt.load_balancing_loss(logits, experts, num_experts)
    grad = None
    if isinstance(loss, torch.Tensor) and loss.requires_grad and loss.numel() == 1:
        (grad,) = torch.autograd.grad(loss.sum(), logits, allow_unused=True)
    return {"loss": _plain(loss), "grad": _plain(grad)}
