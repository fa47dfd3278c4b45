"""Plain Python first: packers over running sums, collation into lists of rows turned into
tensors at the end, boolean-mask unpadding, and one T x T score matrix per head with every
cross-segment (and, if causal, future) pair masked out."""
import torch


def _validate(lengths, capacity):
    if capacity <= 0 or any(n <= 0 or n > capacity for n in lengths):
        raise ValueError("every length must be in 1..capacity, and capacity > 0")


def pack_greedy(lengths, capacity):
    _validate(lengths, capacity)
    bins, room = [], 0
    for i, n in enumerate(lengths):
        if not bins or n > room:
            bins.append([])
            room = capacity
        bins[-1].append(i)
        room -= n
    return bins


def pack_ffd(lengths, capacity):
    _validate(lengths, capacity)
    bins, loads = [], []
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        target = next((b for b, load in enumerate(loads) if load + lengths[i] <= capacity), None)
        if target is None:
            bins.append([i])
            loads.append(lengths[i])
        else:
            bins[target].append(i)
            loads[target] += lengths[i]
    return bins


def collate_packed(samples, bins, capacity, pad_id=0):
    ids, mask, pos, labels, seqlens = [], [], [], [], []
    for b in bins:
        r_ids, r_mask, r_pos, r_lab = [], [], [], []
        for i in b:
            tokens = list(samples[i])
            r_ids += tokens
            r_mask += [1] * len(tokens)
            r_pos += list(range(len(tokens)))
            r_lab += [-100] + tokens[1:]
            seqlens.append(len(tokens))
        pad = capacity - len(r_ids)
        if pad < 0:
            raise ValueError("a bin holds more tokens than the capacity")
        ids.append(r_ids + [pad_id] * pad)
        mask.append(r_mask + [0] * pad)
        pos.append(r_pos + [0] * pad)
        labels.append(r_lab + [-100] * pad)
    cu = [0]
    for n in seqlens:
        cu.append(cu[-1] + n)

    def table(rows):
        return torch.tensor(rows, dtype=torch.long).reshape(len(bins), capacity)
    return {"input_ids": table(ids), "attention_mask": table(mask), "position_ids": table(pos),
            "labels": table(labels), "cu_seqlens": torch.tensor(cu, dtype=torch.int32),
            "max_seqlen": max(seqlens) if seqlens else 0}


def unpad_input(hidden, attention_mask):
    keep = attention_mask.bool()
    B, L = keep.shape
    counts = [int(c) for c in keep.sum(dim=1)]
    cu = [0]
    for c in counts:
        cu.append(cu[-1] + c)
    indices = torch.arange(B * L)[keep.reshape(-1)]
    return (hidden[keep], indices, torch.tensor(cu, dtype=torch.int32), max(counts, default=0))


def pad_input(unpadded, indices, batch, seqlen):
    out = unpadded.new_zeros((batch * seqlen,) + tuple(unpadded.shape[1:]))
    out[indices] = unpadded
    return out.view(batch, seqlen, *unpadded.shape[1:])


def varlen_attention(q, k, v, cu_seqlens, causal=False):
    T = q.shape[0]
    bounds = cu_seqlens.tolist()
    seg = torch.zeros(T, dtype=torch.long)
    for i, (s, e) in enumerate(zip(bounds, bounds[1:])):
        seg[s:e] = i
    allowed = seg[:, None] == seg[None, :]
    if causal:
        allowed &= torch.ones(T, T, dtype=torch.bool).tril()
    scores = torch.einsum("ihd,jhd->hij", q, k) / q.shape[-1] ** 0.5
    weights = scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
    return torch.einsum("hij,jhd->ihd", weights, v)
