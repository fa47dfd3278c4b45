"""online_softmax stores every block's (max, sum) and merges them at the end: right values,
but O(rows × n / block) memory, as much as x itself when blocks are small."""
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
    n = x.shape[-1]
    ms, ds = [], []
    for s in range(0, n, block):
        xb = x[..., s:s + block].astype(np.float64)
        bm = xb.max(axis=-1)
        sh = np.where(bm == -np.inf, 0.0, bm)
        ms.append(bm); ds.append(np.exp(xb - sh[..., None]).sum(axis=-1))
    M = np.stack(ms, -1); D = np.stack(ds, -1)
    m = M.max(-1)
    shift = np.where(m == -np.inf, 0.0, m)
    d = (D * np.exp(np.where(M == -np.inf, -np.inf, M - shift[..., None]))).sum(-1)
    inv_d = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    out = np.empty_like(x)
    for s in range(0, n, block):
        xb = x[..., s:s + block].astype(np.float64)
        out[..., s:s + block] = np.exp(xb - shift[..., None]) * inv_d[..., None]
    return out
