"""Loop over experts, HF-Mixtral style: k rounds of argmax, a one-hot cumsum for capacity, and
per-expert torch.where + index_add in the layer (no dispatch/combine inside moe_layer)."""
import math

import torch
import torch.nn.functional as F


def route(logits, k, *, scoring="softmax", normalize=False, bias=None):
    E = logits.shape[-1]
    if scoring not in ("softmax", "sigmoid"):
        raise ValueError(f"unknown scoring {scoring!r}")
    if k < 1 or k > E:
        raise ValueError(f"k = {k} is not in 1..{E}")
    scores = F.softmax(logits, dim=-1) if scoring == "softmax" else logits.sigmoid()
    select = scores.detach().clone()
    if bias is not None:
        select = select + bias
    picks = []
    for _ in range(k):
        best = select.argmax(dim=-1)          # the first maximum: ties go to the lower index
        picks.append(best)
        select = select.scatter(1, best[:, None], float("-inf"))
    experts = torch.stack(picks, dim=1)
    weights = torch.gather(scores, 1, experts)
    if normalize:
        weights = weights / weights.sum(-1, keepdim=True)
    return weights, experts


def capacity_keep(experts, num_experts, capacity):
    if capacity < 0:
        raise ValueError("negative capacity")
    T, k = experts.shape
    onehot = F.one_hot(experts.t().reshape(-1), num_experts)        # (k·T, E), priority order
    position = ((onehot.cumsum(dim=0) - 1) * onehot).sum(dim=1)      # earlier ones to the same expert
    return (position < capacity).reshape(k, T).t().contiguous()


def dispatch(x, experts, keep, num_experts):
    T, k = experts.shape
    rows, src, counts = [], [], []
    for e in range(num_experts):
        j, t = torch.nonzero((experts.t() == e) & keep.t(), as_tuple=True)   # by choice, then token
        rows.append(t)
        src.append(t * k + j)
        counts.append(len(t))
    tokens = torch.cat(rows)
    return x[tokens], torch.tensor(counts, dtype=torch.int64), torch.cat(src).long()


def combine(y_grouped, source, weights, T):
    k = weights.shape[1]
    t, j = source // k, source % k
    out = torch.zeros(T, y_grouped.shape[1], dtype=y_grouped.dtype)
    return out.index_add(0, t, y_grouped * weights[t, j].unsqueeze(1))


def load_balancing_loss(logits, experts, num_experts):
    P = F.softmax(logits, dim=-1).mean(dim=0)
    hits = torch.zeros(num_experts, dtype=logits.dtype).index_add(
        0, experts.reshape(-1), torch.ones(experts.numel(), dtype=logits.dtype))
    return (hits / experts.numel() * P).sum() * num_experts


def moe_layer(x, router_weight, experts, k, *, capacity_factor=None, scoring="softmax", normalize=False):
    if capacity_factor is not None and capacity_factor <= 0:
        raise ValueError("capacity_factor must be positive")
    T, E = x.shape[0], len(experts)
    weights, chosen = route(F.linear(x, router_weight), k, scoring=scoring, normalize=normalize)
    if capacity_factor is None:
        keep = torch.ones(chosen.shape, dtype=torch.bool)
    else:
        keep = capacity_keep(chosen, E, math.ceil(capacity_factor * T * k / E))
    y = torch.zeros_like(x)
    for e, expert in enumerate(experts):
        tok, j = torch.where((chosen == e) & keep)
        if len(tok):
            y = y.index_add(0, tok, expert(x[tok]) * weights[tok, j].unsqueeze(-1))
    return y
