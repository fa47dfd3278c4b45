"""Preallocated path written in place: each step's iterate is computed straight into its own row
(np.subtract with out=), and that row is what g sees next; the mean in a generator + np.fromiter."""
import numpy as np


def _running_means(samples):
    mean = 0.0
    for k, x in enumerate(samples, start=1):
        mean += (float(x) - mean) / k
        yield mean


def incremental_mean(samples):
    return np.fromiter(_running_means(samples), dtype=np.float64)


def robbins_monro(g, w0, steps, step_size=lambda k: 1.0 / k):
    shape = np.shape(w0)
    path = np.empty((steps + 1, *shape), dtype=np.float64)
    path[0] = w0
    for k in range(1, steps + 1):
        prev, cur = path[k - 1, ...], path[k, ...]   # 0-d views too when w0 is a scalar
        np.subtract(prev, step_size(k) * np.asarray(g(prev), dtype=np.float64), out=cur)
    return path
