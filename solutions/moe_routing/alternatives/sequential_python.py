"""Sequential and plain: capacity and grouping by walking the assignments in a Python loop,
normalisation Mixtral-reference style (a softmax over the k chosen logits), combine by
index_put with accumulate."""
import math

import torch


def route(logits, k, *, scoring="softmax", normalize=False, bias=None):
    n_experts = logits.shape[1]
    if scoring != "softmax" and scoring != "sigmoid":
        raise ValueError("scoring must be 'softmax' or 'sigmoid'")
    if not (0 < k <= n_experts):
        raise ValueError("need 1 <= k <= E")
    if scoring == "softmax":
        s = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
        s = s / s.sum(dim=1, keepdim=True)
    else:
        s = 1 / (1 + torch.exp(-logits))
    key = s if bias is None else s + bias
    experts = torch.argsort(-key, dim=1, stable=True)[:, :k]
    if normalize and scoring == "softmax" and bias is None:
        # softmax then renormalised top-k == softmax over the k chosen logits
        return torch.softmax(logits.gather(1, experts), dim=1), experts
    w = s.gather(1, experts)
    return (w / w.sum(dim=1, keepdim=True) if normalize else w), experts


def _walk(experts, keep=None, capacity=None):
    """Assignments (t, j) in priority order with their expert, kept ones only."""
    T, k = experts.shape
    ids = experts.tolist()
    mask = None if keep is None else keep.tolist()
    for j in range(k):
        for t in range(T):
            if mask is None or mask[t][j]:
                yield t, j, ids[t][j]


def capacity_keep(experts, num_experts, capacity):
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    held = [0] * num_experts
    keep = torch.zeros(experts.shape, dtype=torch.bool)
    for t, j, e in _walk(experts):
        if held[e] < capacity:
            held[e] += 1
            keep[t, j] = True
    return keep


def dispatch(x, experts, keep, num_experts):
    k = experts.shape[1]
    per_expert = [[] for _ in range(num_experts)]
    for t, j, e in _walk(experts, keep):
        per_expert[e].append(t * k + j)
    source = torch.tensor([s for group in per_expert for s in group], dtype=torch.int64)
    counts = torch.tensor([len(group) for group in per_expert], dtype=torch.int64)
    return torch.index_select(x, 0, source // k), counts, source


def combine(y_grouped, source, weights, T):
    k = weights.shape[1]
    tok = torch.div(source, k, rounding_mode="floor")
    scaled = y_grouped * weights.flatten()[source][:, None]
    return torch.zeros((T, y_grouped.shape[1]), dtype=y_grouped.dtype).index_put((tok,), scaled, accumulate=True)


def load_balancing_loss(logits, experts, num_experts):
    f = torch.nn.functional.one_hot(experts, num_experts).to(logits.dtype).mean(dim=(0, 1))
    P = torch.softmax(logits, dim=1).mean(dim=0)
    return num_experts * torch.dot(f, P)


def moe_layer(x, router_weight, experts, k, *, capacity_factor=None, scoring="softmax", normalize=False):
    T, E = x.shape[0], router_weight.shape[0]
    if capacity_factor is not None and not capacity_factor > 0:
        raise ValueError("capacity_factor must be > 0")
    weights, chosen = route(x @ router_weight.T, k, scoring=scoring, normalize=normalize)
    cap = T * k if capacity_factor is None else math.ceil(capacity_factor * T * k / E)
    keep = capacity_keep(chosen, E, cap)
    xg, counts, source = dispatch(x, chosen, keep, E)
    outs, start = [], 0
    for e, n in enumerate(counts.tolist()):
        if n:
            outs.append(experts[e](xg[start:start + n]))
        start += n
    return combine(torch.cat(outs), source, weights, T)
