"""online_softmax normalises one whole row at a time (the textbook stable softmax per row):
right values, but temporaries of a whole row, O(n) rather than O(rows × block)."""
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
    out = np.empty_like(x)
    flat, fo = x.reshape(-1, x.shape[-1]), out.reshape(-1, x.shape[-1])
    for r in range(flat.shape[0]):
        row = flat[r].astype(np.float64)
        m = row.max()
        if m == -np.inf:
            fo[r] = 0; continue
        e = np.exp(row - m)
        fo[r] = e / e.sum()
    return out
