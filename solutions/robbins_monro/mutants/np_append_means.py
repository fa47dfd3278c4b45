"""incremental_mean grows its result with np.append per sample: the right means, but each
append copies the array so far, O(n²) time."""
import numpy as np


def incremental_mean(samples):
    """Running means of an iterable in one pass: w_k = w_{k-1} + (x_k - w_{k-1}) / k."""
    means = np.empty(0)
    w = 0.0
    for k, x in enumerate(samples, start=1):
        w += (float(x) - w) / k
        means = np.append(means, w)
    return np.array(means, dtype=np.float64)


def robbins_monro(g, w0, steps, step_size=lambda k: 1.0 / k):
    """w_{k+1} = w_k - a_k g(w_k), a_k = step_size(k), k = 1..steps; rows 0..steps of the path."""
    w = np.array(w0, dtype=np.float64)          # a copy: the caller's w0 is never touched
    path = np.empty((steps + 1,) + w.shape, dtype=np.float64)
    path[0] = w
    for k in range(1, steps + 1):
        w = w - step_size(k) * np.asarray(g(w), dtype=np.float64)   # a new array each step
        path[k] = w
    return path
