"""Element by element in plain Python floats (the original online-normaliser loop) for the
stream, and a running log-sum-exp per row for the array, normalised with exp(x − lse)."""
import math

import numpy as np

NEG_INF = -math.inf


def merge_stats(a, b):
    (ma, da), (mb, db) = a, b
    if ma < mb:
        (ma, da), (mb, db) = (mb, db), (ma, da)
    if mb == NEG_INF:          # b holds nothing finite (or neither does a)
        return (float(ma), float(da))
    return (float(ma), float(da + db * math.exp(mb - ma)))


def softmax_stats(chunks):
    m, d = NEG_INF, 0.0
    for chunk in chunks:
        for v in chunk.tolist():
            if v == NEG_INF:
                continue
            if v > m:
                d = d * math.exp(m - v) + 1.0   # exp(-inf) = 0 when nothing was seen yet
                m = v
            else:
                d += math.exp(v - m)
    return (m, d)


def online_softmax(x, block=128):
    if block < 1:
        raise ValueError("block must be >= 1")
    n = x.shape[-1]
    lse = np.full(x.shape[:-1], NEG_INF)          # log Σ exp over the columns seen so far
    for s in range(0, n, block):
        b = x[..., s:s + block].astype(np.float64)
        bm = b.max(axis=-1)
        safe = np.where(np.isneginf(bm), 0.0, bm)
        with np.errstate(divide="ignore"):        # an all −inf block: log(0) = −inf, as it should
            block_lse = safe + np.log(np.exp(b - safe[..., None]).sum(axis=-1))
        lse = np.logaddexp(lse, block_lse)
    out = np.empty_like(x)
    dead = np.isneginf(lse)
    shift = np.where(dead, 0.0, lse)[..., None]
    for s in range(0, n, block):
        y = np.exp(x[..., s:s + block].astype(np.float64) - shift)
        y[dead] = 0.0
        out[..., s:s + block] = y
    return out
