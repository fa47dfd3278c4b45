"""The scale argument is ignored: always 1/sqrt(d).

Derived from the reference solution for flash_attention: tiled attention with an online softmax, and its backward.

Forward: for each tile of queries keep, per row, a running max m, a running sum l of exp(s − m)
and an unnormalised output acc. Each key tile rescales l and acc by exp(m_old − m_new) before
adding its own contribution, so only a block_q × block_k tile of scores exists at any time.
lse = m + log(l) is saved for the backward pass, which recomputes each probability tile as
exp(s − lse) instead of storing it.

Causal masking is aligned to the bottom-right corner: query i sees key j iff j ≤ i + (Nk − Nq).
"""
from __future__ import annotations

import math

import torch

NEG_INF = float("-inf")


def _acc_dtype(dtype):
    # float64 inputs stay float64; anything else accumulates in float32 (as FlashAttention does).
    return torch.float64 if dtype == torch.float64 else torch.float32


def _tile_mask(i0, i1, j0, j1, offset, device):
    """True where key j is visible from query i in this tile (bottom-right causal)."""
    rows = torch.arange(i0, i1, device=device)[:, None]
    cols = torch.arange(j0, j1, device=device)[None, :]
    return cols <= rows + offset


def _key_range(i0, i1, nk, offset, causal):
    """Keys any query of rows [i0, i1) may see: all of them, or those up to the last row's diagonal."""
    return nk if not causal else max(0, min(nk, i1 - 1 + offset + 1))


def flash_attention(q, k, v, *, causal=False, scale=None, block_q=64, block_k=64):
    nq, d = q.shape[-2], q.shape[-1]
    nk, dv = k.shape[-2], v.shape[-1]
    scale = 1.0 / math.sqrt(d)
    acc = _acc_dtype(q.dtype)
    offset = nk - nq
    batch = q.shape[:-2]
    out = torch.empty(*batch, nq, dv, dtype=q.dtype, device=q.device)
    lse = torch.empty(*batch, nq, dtype=acc, device=q.device)
    kt = k.to(acc).transpose(-1, -2)
    va = v.to(acc)
    for i0 in range(0, nq, block_q):
        i1 = min(i0 + block_q, nq)
        qi = q[..., i0:i1, :].to(acc) * scale  # scale once per tile, not per score tile
        m = torch.full((*batch, i1 - i0), NEG_INF, dtype=acc, device=q.device)
        l = torch.zeros_like(m)
        o = torch.zeros(*batch, i1 - i0, dv, dtype=acc, device=q.device)
        for j0 in range(0, _key_range(i0, i1, nk, offset, causal), block_k):
            j1 = min(j0 + block_k, nk)
            s = qi @ kt[..., j0:j1]
            if causal and j1 - 1 > i0 + offset:  # only tiles that cross the diagonal need a mask
                s = s.masked_fill(~_tile_mask(i0, i1, j0, j1, offset, q.device), NEG_INF)
            m_new = torch.maximum(m, s.amax(dim=-1))
            # Rows with nothing visible yet have m_new = −inf; shift them by 0 so that
            # −inf − (−inf) never happens (their p and alpha come out 0, not NaN).
            shift = torch.where(m_new == NEG_INF, 0.0, m_new)
            p = torch.exp(s - shift[..., None])
            alpha = torch.exp(m - shift)
            l = l * alpha + p.sum(dim=-1)
            o = o * alpha[..., None] + p @ va[..., j0:j1, :]
            m = m_new
        seen = l > 0
        out[..., i0:i1, :] = torch.where(seen[..., None], o / torch.where(seen, l, 1.0)[..., None], 0.0)
        lse[..., i0:i1] = torch.where(seen, m + torch.log(torch.where(seen, l, 1.0)), NEG_INF)
    return out, lse


def flash_attention_backward(q, k, v, out, lse, dout, *, causal=False, scale=None, block_q=64,
                             block_k=64):
    nq, d = q.shape[-2], q.shape[-1]
    nk = k.shape[-2]
    scale = 1.0 / math.sqrt(d)
    acc = _acc_dtype(q.dtype)
    offset = nk - nq
    qa, ka, va, doa = q.to(acc), k.to(acc), v.to(acc), dout.to(acc)
    # D_i = Σ_c dout_ic · out_ic = Σ_j P_ij dP_ij: the row term of the softmax Jacobian.
    D = (doa * out.to(acc)).sum(dim=-1)
    # exp(s − lse) with lse = −inf (a row that sees no key) must give 0: use +inf there.
    lse = torch.where(lse == NEG_INF, float("inf"), lse.to(acc))
    dq = torch.zeros_like(qa)
    dk = torch.zeros_like(ka)
    dv = torch.zeros_like(va)
    for j0 in range(0, nk, block_k):
        j1 = min(j0 + block_k, nk)
        kj, vj = ka[..., j0:j1, :], va[..., j0:j1, :]
        # Causal: the first query that sees key j0 is j0 − offset; earlier q tiles are skipped.
        first_q = max(0, j0 - offset) if causal else 0
        for i0 in range(first_q - first_q % block_q, nq, block_q):
            i1 = min(i0 + block_q, nq)
            qi, doi = qa[..., i0:i1, :], doa[..., i0:i1, :]
            s = (qi @ kj.transpose(-1, -2)) * scale
            if causal and j1 - 1 > i0 + offset:
                s = s.masked_fill(~_tile_mask(i0, i1, j0, j1, offset, q.device), NEG_INF)
            p = torch.exp(s - lse[..., i0:i1, None])
            dv[..., j0:j1, :] += p.transpose(-1, -2) @ doi
            dp = doi @ vj.transpose(-1, -2)
            ds = p * (dp - D[..., i0:i1, None])
            dq[..., i0:i1, :] += (ds @ kj) * scale
            dk[..., j0:j1, :] += (ds.transpose(-1, -2) @ qi) * scale
    return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype)
