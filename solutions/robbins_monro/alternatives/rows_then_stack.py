"""Collect the iterates in a list and stack them once at the end; the mean as a running sum / k."""
import numpy as np


def incremental_mean(samples):
    total, means = 0.0, []
    for k, x in enumerate(samples, 1):
        total += float(x)
        means.append(total / k)
    return np.asarray(means, dtype=np.float64).reshape(-1)


def robbins_monro(g, w0, steps, step_size=lambda k: 1.0 / k):
    w = np.array(w0, dtype=np.float64, copy=True)
    rows = [w]
    for k in range(1, steps + 1):
        w = w - step_size(k) * g(w)
        rows.append(w)
    return np.stack(rows).astype(np.float64, copy=False)
