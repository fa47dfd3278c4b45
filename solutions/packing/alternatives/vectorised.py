"""Tensors throughout: FFD over a torch room vector (first bin with room by argmax), collation by
scattering every token at once from segment offsets, and an online-softmax (block of one key at
a time) varlen attention that never forms a score matrix."""
import torch


def _check(lengths, capacity):
    if capacity <= 0 or any((n <= 0) or (n > capacity) for n in lengths):
        raise ValueError("lengths must lie in 1..capacity with capacity >= 1")


def pack_greedy(lengths, capacity):
    _check(lengths, capacity)
    bins, start, used = [], 0, 0
    for i, n in enumerate(lengths):
        if used + n > capacity:
            bins.append(list(range(start, i)))
            start, used = i, 0
        used += n
    if start < len(lengths):
        bins.append(list(range(start, len(lengths))))
    return bins


def pack_ffd(lengths, capacity):
    _check(lengths, capacity)
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    room = torch.zeros(0, dtype=torch.long)
    bins = []
    for i in order:
        fits = room >= lengths[i]
        if bool(fits.any()):
            b = int(fits.to(torch.uint8).argmax())   # the first True
            room[b] -= lengths[i]
            bins[b].append(i)
        else:
            room = torch.cat([room, torch.tensor([capacity - lengths[i]])])
            bins.append([i])
    return bins


def collate_packed(samples, bins, capacity, pad_id=0):
    rows = len(bins)
    order = [i for b in bins for i in b]
    lens = torch.tensor([len(samples[i]) for i in order], dtype=torch.long)
    row_of = torch.tensor([r for r, b in enumerate(bins) for _ in b], dtype=torch.long)
    # Column where each sample starts: the lengths before it in its own row.
    csum = torch.cumsum(lens, 0) - lens
    row_start = torch.zeros(rows + 1, dtype=torch.long)
    if len(order):
        first = torch.ones(len(order), dtype=torch.bool)
        first[1:] = row_of[1:] != row_of[:-1]
        row_start[row_of[first]] = csum[first]
    col0 = csum - row_start[row_of]
    if len(order) and bool((col0 + lens > capacity).any()):
        raise ValueError("a bin holds more tokens than the capacity")
    tok_row = torch.repeat_interleave(row_of, lens)
    tok_pos = torch.arange(int(lens.sum())) - torch.repeat_interleave(torch.cumsum(lens, 0) - lens, lens)
    tok_col = torch.repeat_interleave(col0, lens) + tok_pos
    tokens = torch.tensor([t for i in order for t in samples[i]], dtype=torch.long)
    input_ids = torch.full((rows, capacity), pad_id, dtype=torch.long)
    attention_mask = torch.zeros(rows, capacity, dtype=torch.long)
    position_ids = torch.zeros(rows, capacity, dtype=torch.long)
    labels = torch.full((rows, capacity), -100, dtype=torch.long)
    input_ids[tok_row, tok_col] = tokens
    attention_mask[tok_row, tok_col] = 1
    position_ids[tok_row, tok_col] = tok_pos
    labels[tok_row, tok_col] = torch.where(tok_pos == 0, torch.full_like(tokens, -100), tokens)
    cu = torch.zeros(len(order) + 1, dtype=torch.int32)
    cu[1:] = torch.cumsum(lens, 0).to(torch.int32)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids,
            "labels": labels, "cu_seqlens": cu, "max_seqlen": int(lens.max()) if len(order) else 0}


def unpad_input(hidden, attention_mask):
    B, L = attention_mask.shape
    on = attention_mask.reshape(-1).bool()
    indices = torch.arange(B * L)[on]
    counts = attention_mask.bool().sum(-1)
    cu = torch.zeros(B + 1, dtype=torch.int32)
    cu[1:] = counts.cumsum(0)
    return hidden.flatten(0, 1)[indices], indices, cu, int(counts.max()) if B else 0


def pad_input(unpadded, indices, batch, seqlen):
    out = torch.zeros((batch * seqlen, *unpadded.shape[1:]), dtype=unpadded.dtype)
    out.index_put_((indices,), unpadded)
    return out.unflatten(0, (batch, seqlen))


def varlen_attention(q, k, v, cu_seqlens, causal=False):
    T, H, d = q.shape
    bounds = cu_seqlens.tolist()
    seg_start = torch.zeros(T, dtype=torch.long)
    seg_end = torch.zeros(T, dtype=torch.long)
    for s, e in zip(bounds, bounds[1:]):
        seg_start[s:e], seg_end[s:e] = s, e
    # Every query walks its own segment's keys one at a time, with a running (max, sum, acc).
    qd, kd, vd = q.double(), k.double(), v.double()
    m = torch.full((T, H), float("-inf"), dtype=torch.float64)
    den = torch.zeros(T, H, dtype=torch.float64)
    acc = torch.zeros(T, H, d, dtype=torch.float64)
    longest = max((e - s for s, e in zip(bounds, bounds[1:])), default=0)
    rows = torch.arange(T)
    for offset in range(longest):
        key = seg_start + offset
        valid = key < (rows + 1 if causal else seg_end)
        valid &= key < seg_end
        kk = key.clamp(max=max(T - 1, 0))
        score = (qd * kd[kk]).sum(-1) / d ** 0.5                   # (T, H)
        score = torch.where(valid[:, None], score, torch.tensor(float("-inf"), dtype=torch.float64))
        new_m = torch.maximum(m, score)
        safe = torch.where(torch.isinf(new_m), torch.zeros_like(new_m), new_m)
        scale_old = torch.exp(m - safe)
        w = torch.exp(score - safe)
        den = den * scale_old + w
        acc = acc * scale_old[..., None] + w[..., None] * vd[kk]
        m = new_m
    out = torch.where(den[..., None] > 0, acc / den.clamp(min=1e-300)[..., None], torch.zeros_like(acc))
    return out.to(q.dtype)
