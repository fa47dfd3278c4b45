"""online_softmax writes a float64 output and casts it to x's dtype at the end: for float32
input that is a temporary twice the size of the output."""
from __future__ import annotations

import math

import numpy as np

EMPTY = (-math.inf, 0.0)  # the stats of nothing: merging with it changes nothing


def _rescale(m_old, m_new):
    """exp(m_old − m_new), with exp(−inf − (−inf)) taken as 1 (nothing seen yet on either side)."""
    if m_new == -math.inf:
        return 1.0
    return math.exp(m_old - m_new)


def merge_stats(a, b):
    (ma, da), (mb, db) = a, b
    m = max(ma, mb)
    return (m, da * _rescale(ma, m) + db * _rescale(mb, m))


def softmax_stats(chunks):
    m, d = EMPTY
    for chunk in chunks:  # one pass; each chunk is dropped as soon as it is summarised
        chunk = np.asarray(chunk, dtype=np.float64)
        if chunk.size == 0:
            continue
        cm = float(chunk.max())
        if cm == -math.inf:  # an all −inf chunk adds nothing (and exp(−inf − −inf) would be NaN)
            continue
        m, d = merge_stats((m, d), (cm, float(np.exp(chunk - cm).sum())))
    return (float(m), float(d))


def online_softmax(x, block=128):
    x = np.asarray(x)
    if block < 1:
        raise ValueError("block must be at least 1")
    n = x.shape[-1]
    # Statistics per row in float64 whatever the input: the accuracy of d decides the result's.
    m = np.full(x.shape[:-1], -np.inf)
    d = np.zeros(x.shape[:-1])
    for start in range(0, n, block):  # the last block may be shorter: slicing clips it
        xb = x[..., start:start + block].astype(np.float64)
        bm = xb.max(axis=-1)
        m_new = np.maximum(m, bm)
        # Rows that are −inf so far would compute −inf − (−inf) = NaN: shift them by 0 instead.
        shift = np.where(m_new == -np.inf, 0.0, m_new)
        d = d * np.exp(m - shift) + np.exp(xb - shift[..., None]).sum(axis=-1)
        m = m_new
    # One normalisation pass, written straight into the output: no full-size temporaries.
    shift = np.where(m == -np.inf, 0.0, m)
    inv_d = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)  # all −inf rows: 0, not 0/0
    out = np.empty(x.shape, dtype=np.float64)
    for start in range(0, n, block):
        xb = x[..., start:start + block].astype(np.float64)
        out[..., start:start + block] = np.exp(xb - shift[..., None]) * inv_d[..., None]
    return out.astype(x.dtype, copy=False)
