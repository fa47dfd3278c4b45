"""Reference: top-k routing (softmax or biased sigmoid), GShard-priority capacity, sort-based
dispatch and index_add combine, the Switch load-balancing loss, and a dropless-or-capped MoE layer.

Nothing here is larger than T·k rows of the input (plus the (T, E) scores): the grouping is a
stable sort of the T·k expert ids, never a (T, E, capacity) one-hot."""
import math

import torch

SCORINGS = ("softmax", "sigmoid")


def route(logits, k, *, scoring="softmax", normalize=False, bias=None):
    T, E = logits.shape
    if scoring not in SCORINGS:
        raise ValueError(f"scoring must be one of {SCORINGS}, got {scoring!r}")
    if not 1 <= k <= E:
        raise ValueError(f"k must be in 1..{E} (the number of experts), got {k}")
    scores = torch.softmax(logits, dim=-1) if scoring == "softmax" else torch.sigmoid(logits)
    select = scores if bias is None else scores + bias
    # A stable descending sort keeps equal scores in index order; torch.topk does not promise it.
    experts = torch.sort(select, dim=-1, descending=True, stable=True).indices[:, :k]
    weights = scores.gather(1, experts)          # the unbiased scores: bias only selects
    if normalize:
        weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights, experts


def _priority(T, k):
    """Flat (t·k + j) ids of the assignments in GShard priority order: every token's choice 0
    (tokens ascending), then every token's choice 1, and so on."""
    return (torch.arange(T)[None, :] * k + torch.arange(k)[:, None]).reshape(-1)


def capacity_keep(experts, num_experts, capacity):
    if capacity < 0:
        raise ValueError(f"capacity must be ≥ 0, got {capacity}")
    T, k = experts.shape
    order = _priority(T, k)
    ids = experts.reshape(-1)[order]
    # Group the assignments by expert, keeping priority order inside a group; an assignment's
    # rank within its group is its slot in the expert's buffer.
    grouped = torch.sort(ids, stable=True).indices
    counts = torch.bincount(ids, minlength=num_experts)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.empty_like(grouped)
    slot[grouped] = torch.arange(ids.numel()) - starts[ids[grouped]]
    keep = torch.empty(T * k, dtype=torch.bool)
    keep[order] = slot < capacity
    return keep.reshape(T, k)


def dispatch(x, experts, keep, num_experts):
    T, k = experts.shape
    order = _priority(T, k)
    kept = order[keep.reshape(-1)[order]]        # kept assignments, priority order
    ids = experts.reshape(-1)[kept]
    grouped = torch.sort(ids, stable=True).indices
    source = kept[grouped]
    counts = torch.bincount(ids, minlength=num_experts)
    return x[source // k], counts, source


def combine(y_grouped, source, weights, T):
    k = weights.shape[1]
    w = weights.reshape(-1)[source].to(y_grouped.dtype)
    out = y_grouped.new_zeros((T,) + tuple(y_grouped.shape[1:]))
    return out.index_add(0, source // k, y_grouped * w.reshape((-1,) + (1,) * (y_grouped.dim() - 1)))


def load_balancing_loss(logits, experts, num_experts):
    probs = torch.softmax(logits, dim=-1)
    f = torch.bincount(experts.reshape(-1), minlength=num_experts).to(probs.dtype) / experts.numel()
    return num_experts * (f * probs.mean(dim=0)).sum()


def moe_layer(x, router_weight, experts, k, *, capacity_factor=None, scoring="softmax",
              normalize=False):
    T, E = x.shape[0], router_weight.shape[0]
    weights, chosen = route(x @ router_weight.t(), k, scoring=scoring, normalize=normalize)
    if capacity_factor is None:
        keep = torch.ones_like(chosen, dtype=torch.bool)
    elif capacity_factor > 0:
        keep = capacity_keep(chosen, E, math.ceil(capacity_factor * T * k / E))
    else:
        raise ValueError(f"capacity_factor must be > 0 or None, got {capacity_factor}")
    x_grouped, counts, source = dispatch(x, chosen, keep, E)
    groups = torch.split(x_grouped, counts.tolist())
    y_grouped = torch.cat([experts[e](rows) for e, rows in enumerate(groups) if len(rows)])
    return combine(y_grouped, source, weights, T)
