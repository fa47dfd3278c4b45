"""Grouped by a counting sort: per-expert offsets from a cumsum, each assignment's destination row
= offset + its position (cumsum of a (T·k, E) one-hot), rows written with scatter; combine by
scatter_add; float64 internals for the scores."""
import math

import torch
import torch.nn.functional as F


def route(logits, k, *, scoring="softmax", normalize=False, bias=None):
    T, E = logits.shape
    if scoring not in {"softmax", "sigmoid"} or not 1 <= k <= E:
        raise ValueError(f"bad arguments: scoring={scoring!r}, k={k}, E={E}")
    s64 = torch.softmax(logits.double(), -1) if scoring == "softmax" else torch.sigmoid(logits.double())
    sel = s64 if bias is None else s64 + bias.double()
    # Lexicographic (score desc, index asc): sort by index first (already), then a stable sort by score.
    order = torch.sort(sel, dim=-1, descending=True, stable=True).indices[:, :k]
    scores = torch.softmax(logits, -1) if scoring == "softmax" else torch.sigmoid(logits)
    w = scores.gather(-1, order)
    if normalize:
        w = w / w.sum(-1, keepdim=True)
    return w, order


def _positions(experts, num_experts, keep=None):
    """Position of each assignment (priority order) among the (kept) ones of its expert, (T, k)."""
    T, k = experts.shape
    flat = experts.t().reshape(-1)
    hot = F.one_hot(flat, num_experts)
    if keep is not None:
        hot = hot * keep.t().reshape(-1, 1)
    pos = (torch.cumsum(hot, 0) - hot).gather(1, flat[:, None]).squeeze(1)
    return pos.reshape(k, T).t(), hot.sum(0)


def capacity_keep(experts, num_experts, capacity):
    if capacity < 0:
        raise ValueError(f"capacity {capacity} < 0")
    pos, _ = _positions(experts, num_experts)
    return pos < capacity


def dispatch(x, experts, keep, num_experts):
    T, k = experts.shape
    pos, counts = _positions(experts, num_experts, keep)
    offsets = torch.cumsum(counts, 0) - counts
    dest = (offsets[experts] + pos)[keep]                  # row of each kept (t, j), row-major
    flat_ids = torch.arange(T * k).reshape(T, k)[keep]
    n = int(keep.sum())
    source = torch.empty(n, dtype=torch.int64).scatter(0, dest, flat_ids)
    grouped = x.new_zeros(n, x.shape[1]).index_copy(0, dest, x[flat_ids // k])
    return grouped, counts.long(), source


def combine(y_grouped, source, weights, T):
    k = weights.shape[1]
    contrib = y_grouped * weights.reshape(-1).index_select(0, source).unsqueeze(1)
    index = (source // k).unsqueeze(1).expand_as(contrib)
    return torch.zeros(T, y_grouped.shape[1], dtype=y_grouped.dtype).scatter_add(0, index, contrib)


def load_balancing_loss(logits, experts, num_experts):
    T, k = experts.shape
    f = torch.bincount(experts.flatten(), minlength=num_experts).to(logits.dtype) / (T * k)
    return torch.einsum("e,te->", f, torch.softmax(logits, -1)) * num_experts / T


def moe_layer(x, router_weight, experts, k, *, capacity_factor=None, scoring="softmax", normalize=False):
    T, E = x.shape[0], router_weight.shape[0]
    weights, chosen = route(torch.mm(x, router_weight.t()), k, scoring=scoring, normalize=normalize)
    if capacity_factor is None:
        keep = torch.ones_like(chosen, dtype=torch.bool)
    else:
        if capacity_factor <= 0:
            raise ValueError("capacity_factor <= 0")
        keep = capacity_keep(chosen, E, math.ceil(capacity_factor * T * k / E))
    grouped, counts, source = dispatch(x, chosen, keep, E)
    ends = torch.cumsum(counts, 0).tolist()
    starts = [0] + ends[:-1]
    outs = [experts[e](grouped[a:b]) for e, (a, b) in enumerate(zip(starts, ends)) if b > a]
    return combine(torch.cat(outs), source, weights, T)
