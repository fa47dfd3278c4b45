"""Vectorised mean (materialise the stream once, then cumsum / arange) and a loop that updates one
working array in place (w -= a * g(w)) and copies it into the path."""
import numpy as np


def incremental_mean(samples):
    x = np.fromiter((float(v) for v in samples), dtype=np.float64)
    return np.cumsum(x) / np.arange(1, x.size + 1)


def robbins_monro(g, w0, steps, step_size=lambda k: 1.0 / k):
    w = np.asarray(w0, dtype=np.float64).copy()
    path = np.zeros((steps + 1,) + w.shape)
    path[0] = w
    k = 1
    while k <= steps:
        gw = g(w)            # g does not keep w, so updating it in place afterwards is safe
        w -= step_size(k) * gw
        path[k] = w
        k += 1
    return path
