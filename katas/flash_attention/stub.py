"""FlashAttention forward and backward. Read the task with `kata show flash_attention`."""
from __future__ import annotations

import torch


def flash_attention(q, k, v, *, causal=False, scale=None, block_q=64, block_k=64):
    """Attention softmax(q kᵀ · scale) v, computed tile by tile, and the log-sum-exp of each row.

    q (..., Nq, d), k (..., Nk, d), v (..., Nk, dv). scale defaults to 1/sqrt(d). With causal=True,
    query i sees key j iff j ≤ i + (Nk − Nq) (bottom-right aligned). Returns (out, lse): out
    (..., Nq, dv) in q's dtype, lse (..., Nq) in float32 (float64 for float64 inputs). A row that
    sees no key gives out = 0 and lse = -inf. Never build a full Nq × Nk matrix.
    """
    raise NotImplementedError("flash_attention: write your solution here")


def flash_attention_backward(q, k, v, out, lse, dout, *, causal=False, scale=None, block_q=64,
                             block_k=64):
    """Gradients (dq, dk, dv) of Σ(out · dout), tile by tile, from the saved out and lse.

    Recompute each probability tile from lse; D = rowsum(dout ∘ out). Same dtypes as the inputs.
    Never build a full Nq × Nk matrix.
    """
    raise NotImplementedError("flash_attention_backward: write your solution here")
