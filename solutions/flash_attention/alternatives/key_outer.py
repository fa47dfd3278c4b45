"""Key-outer loop order (FlashAttention-1): for each key tile, visit every query tile and update
that tile's running max, sum and output, kept for all Nq rows between visits.

Backward is query-outer instead: dq of a query tile is summed locally over the key tiles, while
dk and dv accumulate into full-size buffers.
"""
import math

import torch

INF = float("inf")


def _setup(q, k, scale):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    acc = torch.float64 if q.dtype == torch.float64 else torch.float32
    return scale, acc, k.shape[-2] - q.shape[-2]


def _masked(s, i0, j0, offset):
    rows = torch.arange(i0, i0 + s.shape[-2]).unsqueeze(1)
    cols = torch.arange(j0, j0 + s.shape[-1]).unsqueeze(0)
    return s.masked_fill(cols > rows + offset, -INF)


def flash_attention(q, k, v, *, causal=False, scale=None, block_q=64, block_k=64):
    scale, acc, offset = _setup(q, k, scale)
    nq, nk = q.shape[-2], k.shape[-2]
    lead = q.shape[:-2]
    m = torch.full((*lead, nq), -INF, dtype=acc)
    l = torch.zeros((*lead, nq), dtype=acc)
    o = torch.zeros((*lead, nq, v.shape[-1]), dtype=acc)
    for j0 in range(0, nk, block_k):
        kj = k[..., j0:j0 + block_k, :].to(acc)
        vj = v[..., j0:j0 + block_k, :].to(acc)
        # Causal: queries before j0 - offset see none of these keys.
        start = max(0, j0 - offset) if causal else 0
        for i0 in range(start - start % block_q, nq, block_q):
            i1 = min(i0 + block_q, nq)
            s = (q[..., i0:i1, :].to(acc) @ kj.transpose(-1, -2)) * scale
            if causal:
                s = _masked(s, i0, j0, offset)
            m_old = m[..., i0:i1]
            m_new = torch.maximum(m_old, s.amax(-1))
            base = torch.where(torch.isinf(m_new), torch.zeros_like(m_new), m_new)
            p = torch.exp(s - base.unsqueeze(-1))
            fix = torch.exp(m_old - base)
            l[..., i0:i1] = l[..., i0:i1] * fix + p.sum(-1)
            o[..., i0:i1, :] = o[..., i0:i1, :] * fix.unsqueeze(-1) + p @ vj
            m[..., i0:i1] = m_new
    empty = l == 0
    out = o / torch.where(empty, torch.ones_like(l), l).unsqueeze(-1)
    out = out.masked_fill(empty.unsqueeze(-1), 0.0)
    lse = (m + torch.log(l)).masked_fill(empty, -INF)
    return out.to(q.dtype), lse


def flash_attention_backward(q, k, v, out, lse, dout, *, causal=False, scale=None, block_q=64,
                             block_k=64):
    scale, acc, offset = _setup(q, k, scale)
    nq, nk = q.shape[-2], k.shape[-2]
    dq = torch.zeros(q.shape, dtype=acc)
    dk = torch.zeros(k.shape, dtype=acc)
    dv = torch.zeros(v.shape, dtype=acc)
    for i0 in range(0, nq, block_q):
        i1 = min(i0 + block_q, nq)
        qi, doi = q[..., i0:i1, :].to(acc), dout[..., i0:i1, :].to(acc)
        li = lse[..., i0:i1].to(acc)
        li = torch.where(torch.isinf(li), torch.full_like(li, INF), li)  # dead rows: P = 0
        Di = (doi * out[..., i0:i1, :].to(acc)).sum(-1, keepdim=True)
        stop = min(nk, i1 + offset) if causal else nk   # the last row sees keys < i1 + offset
        dqi = torch.zeros_like(qi)
        for j0 in range(0, max(stop, 0), block_k):
            kj, vj = k[..., j0:j0 + block_k, :].to(acc), v[..., j0:j0 + block_k, :].to(acc)
            s = (qi @ kj.transpose(-1, -2)) * scale
            if causal:
                s = _masked(s, i0, j0, offset)
            p = torch.exp(s - li.unsqueeze(-1))
            dv[..., j0:j0 + block_k, :] += p.transpose(-1, -2) @ doi
            ds = p * (doi @ vj.transpose(-1, -2) - Di)
            dqi += ds @ kj * scale
            dk[..., j0:j0 + block_k, :] += ds.transpose(-1, -2) @ qi * scale
        dq[..., i0:i1, :] = dqi
    return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype)
