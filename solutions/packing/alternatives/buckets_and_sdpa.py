"""Counting sort for FFD (buckets of indices by length, longest first), a column cursor written
straight into preallocated tensors, nonzero/cumsum unpadding, index_copy padding, and torch's
scaled_dot_product_attention run segment by segment."""
import torch
import torch.nn.functional as F


def _check(lengths, capacity):
    if capacity <= 0:
        raise ValueError("capacity must be positive")
    for n in lengths:
        if not 0 < n <= capacity:
            raise ValueError(f"length {n} does not fit capacity {capacity}")


def pack_greedy(lengths, capacity):
    _check(lengths, capacity)
    bins, used = [], capacity + 1           # "no open bin" behaves like a full one
    for i, n in enumerate(lengths):
        if used + n > capacity:
            bins.append([])
            used = 0
        bins[-1].append(i)
        used += n
    return bins


def pack_ffd(lengths, capacity):
    _check(lengths, capacity)
    buckets = [[] for _ in range(capacity + 1)]
    for i, n in enumerate(lengths):          # indices stay ascending inside a bucket
        buckets[n].append(i)
    bins, free = [], []
    for n in range(capacity, 0, -1):
        for i in buckets[n]:
            for b in range(len(free)):
                if free[b] >= n:
                    bins[b].append(i)
                    free[b] -= n
                    break
            else:
                bins.append([i])
                free.append(capacity - n)
    return bins


def collate_packed(samples, bins, capacity, pad_id=0):
    rows = len(bins)
    out = {"input_ids": torch.full((rows, capacity), pad_id, dtype=torch.int64),
           "attention_mask": torch.zeros(rows, capacity, dtype=torch.int64),
           "position_ids": torch.zeros(rows, capacity, dtype=torch.int64),
           "labels": torch.full((rows, capacity), -100, dtype=torch.int64)}
    lens = []
    for r, b in enumerate(bins):
        col = 0
        for i in b:
            n = len(samples[i])
            if n == 0:
                lens.append(0)
                continue
            tok = torch.tensor(samples[i], dtype=torch.int64)
            out["input_ids"][r, col:col + n] = tok
            out["attention_mask"][r, col:col + n] = 1
            out["position_ids"][r, col:col + n] = torch.arange(n)
            out["labels"][r, col + 1:col + n] = tok[1:]
            lens.append(n)
            col += n
    out["cu_seqlens"] = F.pad(torch.tensor(lens, dtype=torch.int64).cumsum(0), (1, 0)).to(torch.int32)
    out["max_seqlen"] = max(lens, default=0)
    return out


def unpad_input(hidden, attention_mask):
    B, L = attention_mask.shape
    flat_mask = attention_mask.reshape(-1) != 0
    indices = flat_mask.nonzero().reshape(-1)
    per_row = (attention_mask != 0).sum(1)
    cu = torch.cat([per_row.new_zeros(1), per_row.cumsum(0)]).to(torch.int32)
    tokens = hidden.reshape(B * L, *hidden.shape[2:]).index_select(0, indices)
    return tokens, indices, cu, int(per_row.max()) if B else 0


def pad_input(unpadded, indices, batch, seqlen):
    flat = torch.zeros(batch * seqlen, *unpadded.shape[1:], dtype=unpadded.dtype)
    flat.index_copy_(0, indices, unpadded)
    return flat.reshape(batch, seqlen, *unpadded.shape[1:])


def varlen_attention(q, k, v, cu_seqlens, causal=False):
    out = torch.zeros_like(q)
    cu = cu_seqlens.tolist()
    for i in range(len(cu) - 1):
        s, e = cu[i], cu[i + 1]
        if e > s:
            # (T, H, d) -> (H, T, d), SDPA's layout; its default scale is 1/sqrt(d)
            a = F.scaled_dot_product_attention(q[s:e].transpose(0, 1), k[s:e].transpose(0, 1),
                                               v[s:e].transpose(0, 1), is_causal=causal)
            out[s:e] = a.transpose(0, 1)
    return out
