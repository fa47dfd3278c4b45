"""Log-space merging with einsum: each key tile's own softmax and log-sum-exp, merged into the
running (normalised output, lse) pair by logaddexp, instead of a running max and sum.

Backward also uses einsum, and recomputes P from lse per tile (query-tile outer loop).
"""
import math

import torch

NEG = float("-inf")


def _weights(a, b):
    """exp(a - b) with exp(-inf - -inf) read as 0 (a row that has seen nothing yet)."""
    safe_b = torch.where(b == NEG, torch.zeros_like(b), b)
    return torch.where(a == NEG, torch.zeros_like(a), torch.exp(a - safe_b))


def flash_attention(q, k, v, *, causal=False, scale=None, block_q=64, block_k=64):
    d, nq, nk = q.shape[-1], q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(d) if scale is None else scale
    acc = torch.float64 if q.dtype == torch.float64 else torch.float32
    shift = nk - nq
    outs, lses = [], []
    for i0 in range(0, nq, block_q):
        qi = q[..., i0:i0 + block_q, :].to(acc)
        rows = torch.arange(i0, i0 + qi.shape[-2])
        run_lse = torch.full(qi.shape[:-1], NEG, dtype=acc)
        run_out = torch.zeros((*qi.shape[:-1], v.shape[-1]), dtype=acc)
        for j0 in range(0, nk, block_k):
            if causal and j0 > rows[-1] + shift:
                break  # this tile and all later ones are above the diagonal
            kj, vj = k[..., j0:j0 + block_k, :].to(acc), v[..., j0:j0 + block_k, :].to(acc)
            s = torch.einsum("...id,...jd->...ij", qi, kj) * scale
            if causal:
                cols = torch.arange(j0, j0 + kj.shape[-2])
                s = torch.where(cols[None, :] <= rows[:, None] + shift, s, torch.full_like(s, NEG))
            t_lse = torch.logsumexp(s, dim=-1)
            t_out = torch.einsum("...ij,...jc->...ic", _weights(s, t_lse[..., None]), vj)
            new = torch.logaddexp(run_lse, t_lse)
            run_out = (run_out * _weights(run_lse, new)[..., None]
                       + t_out * _weights(t_lse, new)[..., None])
            run_lse = new
        outs.append(run_out.to(q.dtype))
        lses.append(run_lse)
    return torch.cat(outs, dim=-2), torch.cat(lses, dim=-1)


def flash_attention_backward(q, k, v, out, lse, dout, *, causal=False, scale=None, block_q=64,
                             block_k=64):
    d, nq, nk = q.shape[-1], q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(d) if scale is None else scale
    acc = torch.float64 if q.dtype == torch.float64 else torch.float32
    shift = nk - nq
    dq, dk, dv = (torch.zeros(t.shape, dtype=acc) for t in (q, k, v))
    for i0 in range(0, nq, block_q):
        qi, doi = q[..., i0:i0 + block_q, :].to(acc), dout[..., i0:i0 + block_q, :].to(acc)
        li = lse[..., i0:i0 + block_q].to(acc)[..., None]
        rows = torch.arange(i0, i0 + qi.shape[-2])
        D = torch.einsum("...ic,...ic->...i", doi, out[..., i0:i0 + block_q, :].to(acc))[..., None]
        for j0 in range(0, nk, block_k):
            if causal and j0 > rows[-1] + shift:
                break
            kj, vj = k[..., j0:j0 + block_k, :].to(acc), v[..., j0:j0 + block_k, :].to(acc)
            s = torch.einsum("...id,...jd->...ij", qi, kj) * scale
            if causal:
                cols = torch.arange(j0, j0 + kj.shape[-2])
                s = torch.where(cols[None, :] <= rows[:, None] + shift, s, torch.full_like(s, NEG))
            p = _weights(s, li)
            dv[..., j0:j0 + block_k, :] += torch.einsum("...ij,...ic->...jc", p, doi)
            ds = p * (torch.einsum("...ic,...jc->...ij", doi, vj) - D)
            dq[..., i0:i0 + block_q, :] += torch.einsum("...ij,...jd->...id", ds, kj) * scale
            dk[..., j0:j0 + block_k, :] += torch.einsum("...ij,...id->...jd", ds, qi) * scale
    return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype)
