"""One head at a time: the leading dims flattened, a Python loop over heads, 2-D tiles inside,
masks built by index comparison and torch.where, rows that see nothing fixed up at the end.

Backward recomputes each probability tile from lse and computes D per query tile.
"""
import math

import torch


def _prep(q, k, scale):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    acc = torch.float64 if q.dtype == torch.float64 else torch.float32
    return scale, acc


def _flat(t, acc):
    return t.to(acc).reshape(-1, t.shape[-2], t.shape[-1])


def _visible(i0, i1, j0, j1, offset):
    return torch.arange(j0, j1)[None, :] <= torch.arange(i0, i1)[:, None] + offset


def _score_tiles(q, k, i0, i1, causal, scale, bk):
    """(j0, j1, scores) for each key tile that query rows i0:i1 can see, the causal mask applied."""
    nk = k.shape[0]
    offset = nk - q.shape[0]
    for j0 in range(0, nk, bk):
        j1 = min(nk, j0 + bk)
        if causal and j0 > i1 - 1 + offset:
            break
        s = q[i0:i1] @ k[j0:j1].T * scale
        if causal:
            s = torch.where(_visible(i0, i1, j0, j1, offset), s, float("-inf"))
        yield j0, j1, s


def _head_forward(q, k, v, causal, scale, bq, bk):
    nq = q.shape[0]
    out = torch.zeros(nq, v.shape[1], dtype=q.dtype)
    lse = torch.full((nq,), float("-inf"), dtype=q.dtype)
    for i0 in range(0, nq, bq):
        i1 = min(nq, i0 + bq)
        m = torch.full((i1 - i0,), float("-inf"), dtype=q.dtype)
        l = torch.zeros(i1 - i0, dtype=q.dtype)
        o = torch.zeros(i1 - i0, v.shape[1], dtype=q.dtype)
        for j0, j1, s in _score_tiles(q, k, i0, i1, causal, scale, bk):
            new_m = torch.maximum(m, s.max(dim=1).values)
            safe = torch.nan_to_num(new_m, neginf=0.0)
            p = torch.exp(s - safe[:, None])
            c = torch.exp(m - safe)
            l = c * l + p.sum(dim=1)
            o = c[:, None] * o + p @ v[j0:j1]
            m = new_m
        alive = l > 0
        out[i0:i1][alive] = o[alive] / l[alive][:, None]
        lse[i0:i1][alive] = m[alive] + torch.log(l[alive])
    return out, lse


def flash_attention(q, k, v, *, causal=False, scale=None, block_q=64, block_k=64):
    scale, acc = _prep(q, k, scale)
    qs, ks, vs = _flat(q, acc), _flat(k, acc), _flat(v, acc)
    outs, lses = zip(*(_head_forward(qh, kh, vh, causal, scale, block_q, block_k)
                       for qh, kh, vh in zip(qs, ks, vs))) if qs.shape[0] else ((), ())
    lead = q.shape[:-2]
    out = torch.stack(outs).reshape(*lead, q.shape[-2], v.shape[-1]) if outs else \
        torch.zeros(*lead, q.shape[-2], v.shape[-1], dtype=acc)
    lse = torch.stack(lses).reshape(*lead, q.shape[-2]) if lses else \
        torch.zeros(*lead, q.shape[-2], dtype=acc)
    return out.to(q.dtype), lse


def _head_backward(q, k, v, out, lse, do, causal, scale, bq, bk):
    nq = q.shape[0]
    dq, dk, dv = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
    lse = torch.where(torch.isneginf(lse), float("inf"), lse)
    for i0 in range(0, nq, bq):
        i1 = min(nq, i0 + bq)
        D = (do[i0:i1] * out[i0:i1]).sum(dim=1, keepdim=True)
        for j0, j1, s in _score_tiles(q, k, i0, i1, causal, scale, bk):
            p = torch.exp(s - lse[i0:i1, None])
            dv[j0:j1] += p.T @ do[i0:i1]
            ds = p * (do[i0:i1] @ v[j0:j1].T - D)
            dq[i0:i1] += ds @ k[j0:j1] * scale
            dk[j0:j1] += ds.T @ q[i0:i1] * scale
    return dq, dk, dv


def flash_attention_backward(q, k, v, out, lse, dout, *, causal=False, scale=None, block_q=64,
                             block_k=64):
    scale, acc = _prep(q, k, scale)
    flat = [_flat(t, acc) for t in (q, k, v, out, dout)]
    lses = lse.to(acc).reshape(-1, q.shape[-2])
    grads = [_head_backward(qh, kh, vh, oh, lh, dh, causal, scale, block_q, block_k)
             for qh, kh, vh, oh, dh, lh in zip(*flat, lses)]
    result = []
    for i, src in enumerate((q, k, v)):
        g = torch.stack([gr[i] for gr in grads]) if grads else torch.zeros(0, *src.shape[-2:], dtype=acc)
        result.append(g.reshape(src.shape).to(src.dtype))
    return tuple(result)
