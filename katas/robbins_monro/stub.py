"""Incremental mean and the Robbins–Monro iteration. Read the task with `kata show robbins_monro`."""
import numpy as np


def incremental_mean(samples) -> np.ndarray:
    """Running means of `samples` (any iterable of numbers, possibly a one-shot generator), in
    one pass with O(1) work per sample: float64 array whose entry k-1 is the mean of the first k."""
    raise NotImplementedError("incremental_mean: write your solution here")


def robbins_monro(g, w0, steps: int, step_size=lambda k: 1.0 / k) -> np.ndarray:
    """Find a root of E[g(w)] from the noisy oracle g: w_{k+1} = w_k - a_k * g(w_k) with
    a_k = step_size(k) for k = 1..steps. g is called exactly once per step, with the current
    iterate as a float64 array of w0's shape. Return the float64 array of shape
    (steps + 1, *np.shape(w0)) whose row 0 is w0 and row k the k-th iterate. Do not modify w0."""
    raise NotImplementedError("robbins_monro: write your solution here")
