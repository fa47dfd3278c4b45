"""One row at a time: the array viewed as 2-D (rows, n), each row's blocks folded into Python
floats with merge_stats, then that row's blocks normalised into the output."""
import math

import numpy as np


def merge_stats(a, b):
    ma, da = a
    mb, db = b
    m = max(ma, mb)
    if m == -math.inf:
        return (-math.inf, 0.0)
    return (m, da * math.exp(ma - m) + db * math.exp(mb - m))


def _stats(values):
    if values.size == 0:
        return (-math.inf, 0.0)
    m = float(values.max())
    if m == -math.inf:
        return (-math.inf, 0.0)
    return (m, float(np.sum(np.exp(values - m))))


def softmax_stats(chunks):
    total = (-math.inf, 0.0)
    for chunk in chunks:
        total = merge_stats(total, _stats(np.asarray(chunk, dtype=np.float64)))
    return total


def online_softmax(x, block=128):
    if block < 1:
        raise ValueError("block must be >= 1")
    n = x.shape[-1]
    flat_in = x.reshape(-1, n)           # a view when possible; never written to
    out = np.empty_like(x)
    flat_out = out.reshape(-1, n)        # a view of the fresh, contiguous output
    for r in range(flat_in.shape[0]):
        row = flat_in[r]
        m, d = -math.inf, 0.0
        for s in range(0, n, block):
            m, d = merge_stats((m, d), _stats(row[s:s + block].astype(np.float64)))
        for s in range(0, n, block):
            part = row[s:s + block].astype(np.float64)
            flat_out[r, s:s + block] = 0.0 if d == 0.0 else np.exp(part - m) / d
    return out
