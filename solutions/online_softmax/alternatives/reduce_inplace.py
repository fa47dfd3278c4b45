"""Functional stream (functools.reduce of merge_stats over per-chunk stats) and an array pass
that writes every block straight into the output with in-place ufuncs (out= everywhere)."""
from functools import reduce

import numpy as np

IDENTITY = (float("-inf"), 0.0)


def _factor(m, top):
    return 1.0 if m == top else float(np.exp(m - top))   # covers −inf == −inf


def merge_stats(a, b):
    top = max(a[0], b[0])
    if top == float("-inf"):
        return IDENTITY
    return (float(top), float(a[1] * _factor(a[0], top) + b[1] * _factor(b[0], top)))


def _chunk_stats(chunk):
    c = np.asarray(chunk, dtype=np.float64)
    if c.size == 0 or not np.isfinite(c).any():
        return IDENTITY
    top = c.max()
    return (float(top), float(np.exp(c - top).sum()))


def softmax_stats(chunks):
    return reduce(merge_stats, map(_chunk_stats, chunks), IDENTITY)


def online_softmax(x, block=128):
    if block < 1:
        raise ValueError("block must be >= 1")
    rows, n = x.shape[:-1], x.shape[-1]
    m = np.full(rows + (1,), -np.inf)
    d = np.zeros(rows + (1,))
    for s in range(0, n, block):
        b = x[..., s:s + block].astype(np.float64)
        new_m = np.maximum(m, b.max(axis=-1, keepdims=True))
        ref = np.where(np.isneginf(new_m), 0.0, new_m)
        np.subtract(b, ref, out=b)
        np.exp(b, out=b)
        d = d * np.exp(m - ref) + b.sum(axis=-1, keepdims=True)
        m = new_m
    ref = np.where(np.isneginf(m), 0.0, m)
    scale = np.zeros_like(d)
    np.divide(1.0, d, out=scale, where=d > 0)
    out = np.empty_like(x)
    for s in range(0, n, block):
        b = x[..., s:s + block].astype(np.float64)
        np.subtract(b, ref, out=b)
        np.exp(b, out=b)
        np.multiply(b, scale, out=b)
        out[..., s:s + block] = b
    return out
