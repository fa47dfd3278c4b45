"""collate's cu_seqlens marks row boundaries (one entry per bin), not sample boundaries."""
import torch


def _check(lengths, capacity):
    if capacity <= 0:
        raise ValueError(f"capacity must be positive, got {capacity}")
    for i, n in enumerate(lengths):
        if n <= 0 or n > capacity:
            raise ValueError(f"lengths[{i}] = {n} does not fit a bin of capacity {capacity}")


def pack_greedy(lengths, capacity):
    """Next-fit: only the current bin is open; a sample that does not fit closes it."""
    _check(lengths, capacity)
    bins, current, used = [], [], 0
    for i, n in enumerate(lengths):
        if current and used + n > capacity:
            bins.append(current)
            current, used = [], 0
        current.append(i)
        used += n
    if current:
        bins.append(current)
    return bins


def pack_ffd(lengths, capacity):
    """First-fit decreasing: longest first (ties: lower index first), each into the first bin
    with room. O(n · bins); a segment tree over the bins' room would make it O(n log n)."""
    _check(lengths, capacity)
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins, room = [], []
    for i in order:
        for b, r in enumerate(room):
            if lengths[i] <= r:
                bins[b].append(i)
                room[b] -= lengths[i]
                break
        else:
            bins.append([i])
            room.append(capacity - lengths[i])
    return bins


def collate_packed(samples, bins, capacity, pad_id=0):
    rows = len(bins)
    input_ids = torch.full((rows, capacity), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((rows, capacity), dtype=torch.long)
    position_ids = torch.zeros((rows, capacity), dtype=torch.long)
    labels = torch.full((rows, capacity), -100, dtype=torch.long)
    seqlens = []
    for r, b in enumerate(bins):
        col = 0
        for i in b:
            tokens = torch.as_tensor(list(samples[i]), dtype=torch.long)
            n = len(tokens)
            if col + n > capacity:
                raise ValueError(f"bin {r} holds more than {capacity} tokens")
            input_ids[r, col:col + n] = tokens
            attention_mask[r, col:col + n] = 1
            position_ids[r, col:col + n] = torch.arange(n)
            labels[r, col + 1:col + n] = tokens[1:]   # the first token has no prediction in its sample
            col += n
        seqlens.append(col)
    cu_seqlens = torch.zeros(len(seqlens) + 1, dtype=torch.int32)
    cu_seqlens[1:] = torch.cumsum(torch.tensor(seqlens, dtype=torch.int64), 0).to(torch.int32)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids,
            "labels": labels, "cu_seqlens": cu_seqlens, "max_seqlen": max(seqlens, default=0)}


def unpad_input(hidden, attention_mask):
    seqlens = attention_mask.sum(dim=-1, dtype=torch.int32)
    indices = torch.nonzero(attention_mask.flatten(), as_tuple=False).flatten()
    max_seqlen = int(seqlens.max()) if seqlens.numel() else 0
    cu_seqlens = torch.nn.functional.pad(torch.cumsum(seqlens, dim=0, dtype=torch.int32), (1, 0))
    flat = hidden.reshape(-1, *hidden.shape[2:])
    return flat[indices], indices, cu_seqlens, max_seqlen


def pad_input(unpadded, indices, batch, seqlen):
    out = torch.zeros((batch * seqlen, *unpadded.shape[1:]), dtype=unpadded.dtype)
    out[indices] = unpadded
    return out.reshape(batch, seqlen, *unpadded.shape[1:])


def varlen_attention(q, k, v, cu_seqlens, causal=False):
    out = torch.zeros_like(q)
    scale = q.shape[-1] ** -0.5
    bounds = [int(c) for c in cu_seqlens]
    for s, e in zip(bounds, bounds[1:]):
        n = e - s
        if n == 0:
            continue
        scores = torch.einsum("qhd,khd->hqk", q[s:e], k[s:e]) * scale
        if causal:
            scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
        out[s:e] = torch.einsum("hqk,khd->qhd", scores.softmax(dim=-1), v[s:e])
    return out
