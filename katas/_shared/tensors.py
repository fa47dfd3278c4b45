"""Hypothesis strategies for attention-shaped torch inputs, and a dense float64 attention oracle.

Suites draw a small recipe (shapes, dtype, blocks, seeds) and build the tensors from it with
katas._shared.torch_builders.seeded_tensor, so a counterexample reads as a recipe and shrinks to
small shapes and seed 0.
"""
from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from katas._shared.torch_builders import seeded_tensor

NEG_INF = float("-inf")


def block_choices(n: int) -> list:
    """Tile sizes for a length-n axis: 1, small (dividing n or not), half, n, larger than n, and
    None for the function's default."""
    return [1, 2, 3, 5, n // 2 + 1, n, n + 7, None]


def n_tiles(n: int, block) -> int:
    return -(-n // (block or 64))


@st.composite
def attention_cases(draw, *, causal=False, relation=None, dtypes=("float32", "float64"), max_n=40,
                    max_d=16, scales=(None,), mags=(1.0, 3.0), max_tiles=30, same_dv=None):
    """A recipe for q (..., Nq, d), k (..., Nk, d), v (..., Nk, dv) and dout (..., Nq, dv).

    relation: None (Nq, Nk independent), "lt" (Nq < Nk), "eq", "gt" (Nq > Nk), or "any_causal"
    (one of the three, evenly). max_tiles caps the tile grid (tiles of size 1 on a 40 x 40 problem
    would be 1600 Python-level iterations per call: a slow check, nothing more learned).
    """
    dtype = draw(st.sampled_from(dtypes))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    if relation == "any_causal":
        relation = draw(st.sampled_from(["lt", "eq", "gt"]))
    if relation == "gt":
        nq = draw(st.integers(2, max_n))
        nk = draw(st.integers(1, nq - 1))
    elif relation == "lt":
        nk = draw(st.integers(2, max_n))
        nq = draw(st.integers(1, nk - 1))
    else:
        nq = draw(st.integers(1, max_n))
        nk = nq if relation == "eq" else draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    if same_dv is None:
        dv = draw(st.one_of(st.just(d), st.integers(1, max_d)))
    else:
        dv = d if same_dv else draw(st.integers(1, max_d).filter(lambda x: x != d))
    bq = draw(st.sampled_from(block_choices(nq)))
    bk = draw(st.sampled_from(block_choices(nk)))
    while n_tiles(nq, bq) * n_tiles(nk, bk) > max_tiles:
        if n_tiles(nq, bq) >= n_tiles(nk, bk):
            bq = 2 * (bq or 64)
        else:
            bk = 2 * (bk or 64)
    return {"dtype": dtype, "lead": lead, "nq": nq, "nk": nk, "d": d, "dv": dv,
            "causal": causal, "scale": draw(st.sampled_from(scales)), "block_q": bq, "block_k": bk,
            "mag": draw(st.sampled_from(mags)), "seed": draw(st.integers(0, 2**31 - 1))}


def build(case):
    """q, k, v, dout of a recipe (q and k scaled by `mag`, v and dout standard normal)."""
    lead, s, dt = case["lead"], case["seed"], case["dtype"]
    q = seeded_tensor(lead + (case["nq"], case["d"]), dt, s, case["mag"])
    k = seeded_tensor(lead + (case["nk"], case["d"]), dt, s + 1, case["mag"])
    v = seeded_tensor(lead + (case["nk"], case["dv"]), dt, s + 2)
    dout = seeded_tensor(lead + (case["nq"], case["dv"]), dt, s + 3)
    return q, k, v, dout


def visible(nq: int, nk: int) -> torch.Tensor:
    """Bottom-right causal mask: query i sees key j iff j ≤ i + (Nk − Nq)."""
    return torch.ones(nq, nk, dtype=torch.bool).tril(diagonal=nk - nq)


def dense_attention(q, k, v, *, causal=False, scale=None):
    """Attention straight from the definition, differentiable; use it in float64.

    Returns (out, lse). A row with no visible key gives out = 0 and lse = −inf (and zero
    gradients), without NaN anywhere.
    """
    nq, nk, d = q.shape[-2], k.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    s = (q @ k.transpose(-1, -2)) * scale
    if causal:
        s = s.masked_fill(~visible(nq, nk), NEG_INF)
    m = s.amax(dim=-1, keepdim=True).detach()
    m = torch.where(m == NEG_INF, 0.0, m)
    p = torch.exp(s - m)
    l = p.sum(dim=-1, keepdim=True)
    seen = l > 0
    out = (p @ v) / torch.where(seen, l, 1.0)
    lse = torch.where(seen, m + torch.log(torch.where(seen, l, 1.0)), NEG_INF).squeeze(-1)
    return out, lse
