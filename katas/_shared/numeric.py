"""Comparing floating-point results, for numpy and torch suites alike.

`check_close` fails a property with a message a learner can act on: where the worst element is,
its value on both sides, and the tolerance that was applied. Suites pass tolerances explicitly and
justify them at the call site (dtype, accumulation length).
"""
from __future__ import annotations

import numpy as np

from checker.suite import expect, fail


def as_numpy(x):
    """A float64/complex/int numpy copy of an array, tensor or number (for comparing only)."""
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch here
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    return np.asarray(x)


def check_close(got, expected, *, rtol: float, atol: float, what: str = "result"):
    """Fail unless got ≈ expected elementwise (|got − exp| ≤ atol + rtol·|exp|), same shape,
    and NaN / ±inf exactly where the expected value has them."""
    g, e = as_numpy(got), as_numpy(expected)
    # The whole values and the tolerance, for a reproduction script (checker.repro): the
    # messages below show only the worst element.
    whole = {"kind": "close", "rtol": rtol, "atol": atol, "got": got, "expected": expected}
    if g.shape != e.shape:
        fail(f"{what} has the wrong shape", expected=tuple(e.shape), got=tuple(g.shape), compare=whole)
    if g.size == 0:
        return
    g64, e64 = g.astype(np.float64), e.astype(np.float64)
    nan_g, nan_e = np.isnan(g64), np.isnan(e64)
    if (nan_g != nan_e).any():
        idx = np.unravel_index(np.argmax(nan_g != nan_e), g.shape)
        fail(f"{what} has NaN where it should not (or misses one) at index {tuple(map(int, idx))}",
             expected=float(e64[idx]), got=float(g64[idx]), compare=whole)
    inf_mismatch = (np.isinf(g64) | np.isinf(e64)) & ~(g64 == e64) & ~nan_e
    if inf_mismatch.any():
        idx = np.unravel_index(np.argmax(inf_mismatch), g.shape)
        fail(f"{what} differs at index {tuple(map(int, idx))} (infinite value)",
             expected=float(e64[idx]), got=float(g64[idx]), compare=whole)
    finite = np.isfinite(e64) & np.isfinite(g64)
    with np.errstate(invalid="ignore"):  # -inf - -inf where both are -inf: masked just below
        err = np.where(finite, np.abs(g64 - e64), 0.0)
    allowed = atol + rtol * np.abs(np.where(finite, e64, 0.0))
    bad = err > allowed
    if bad.any():
        idx = np.unravel_index(np.argmax(np.where(bad, err - allowed, -np.inf)), g.shape)
        fail(f"{what} differs from the expected value at index {tuple(map(int, idx))} "
             f"({int(bad.sum())} of {g.size} elements off; rtol={rtol:g}, atol={atol:g})",
             expected=float(e64[idx]), got=float(g64[idx]), compare=whole)


def check_dtype(got, expected_dtype, what="result"):
    expect(str(got.dtype) == str(expected_dtype), f"{what} has the wrong dtype",
           expected=str(expected_dtype), got=str(got.dtype))
