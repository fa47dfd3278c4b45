"""Grows the path with np.concatenate at every step: the right iterates, but each step copies
the whole path so far, O(steps² · size(w)) time."""
import numpy as np


def incremental_mean(samples):
    """Running means of an iterable in one pass: w_k = w_{k-1} + (x_k - w_{k-1}) / k."""
    means = []
    w = 0.0
    for k, x in enumerate(samples, start=1):
        w += (float(x) - w) / k
        means.append(w)
    return np.array(means, dtype=np.float64)


def robbins_monro(g, w0, steps, step_size=lambda k: 1.0 / k):
    """w_{k+1} = w_k - a_k g(w_k), a_k = step_size(k), k = 1..steps; rows 0..steps of the path."""
    w = np.array(w0, dtype=np.float64)          # a copy: the caller's w0 is never touched
    path = w[None].copy()
    for k in range(1, steps + 1):
        w = w - step_size(k) * np.asarray(g(w), dtype=np.float64)   # a new array each step
        path = np.concatenate([path, w[None]])
    return path
