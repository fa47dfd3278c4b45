"""How a reproduction script judges the call it replays. Written once: its source is copied
into every script checker.repro writes, and the checker runs the same functions on the recorded
outcome before offering a script (it must say "reproduces" there).

Only the standard library at import time; numpy is imported when an array is compared.
An expectation is a dict:
    {"kind": "equal", "path": [...], "expected": value}     the value at `path` == expected
    {"kind": "close", "path": [...], "expected": value, "rtol": r, "atol": a}
    {"kind": "raises", "type": "ValueError"}                 the call must raise that type
    {"kind": "returns"}                                      the call must not raise
A path walks the call's outcome {"value": returned, "args": [...], "kwargs": {...}} (arguments
after the call, for in-place changes): keys, indices, and ".shape" / ".dtype" / ".tolist".
"""
import math


def pick(root, path):
    x = root
    for step in path:
        if step == ".shape":
            x = tuple(x.shape)
        elif step == ".dtype":
            x = str(x.dtype)
        elif step == ".tolist":
            x = x.tolist()
        else:
            x = x[step]
    return x


def is_array(x):
    return type(x).__name__ in ("ndarray", "Tensor", "Parameter") and hasattr(x, "shape")


def as_numpy(x):
    import numpy as np
    if hasattr(x, "detach"):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    return np.asarray(x)


def same(got, exp):
    """Python's == for plain data, elementwise equality (NaN equal to NaN) for arrays."""
    if is_array(got) or is_array(exp):
        if not (is_array(got) and is_array(exp)):
            return False
        import numpy as np
        g, e = as_numpy(got), as_numpy(exp)
        nan_ok = g.dtype.kind in "fc" and e.dtype.kind in "fc"
        return g.shape == e.shape and bool(np.array_equal(g, e, equal_nan=nan_ok))
    if isinstance(got, (list, tuple)) and isinstance(exp, (list, tuple)):
        return type(got) is type(exp) and len(got) == len(exp) and all(map(same, got, exp))
    if isinstance(got, dict) and isinstance(exp, dict):
        return got.keys() == exp.keys() and all(same(got[k], exp[k]) for k in got)
    if isinstance(got, float) and isinstance(exp, float) and math.isnan(got) and math.isnan(exp):
        return True
    try:
        return bool(got == exp)
    except Exception:  # noqa: BLE001 - an object that cannot compare is not the expected value
        return False


def close(got, exp, rtol, atol):
    """|got - exp| <= atol + rtol * |exp| elementwise, same shape, NaN and inf where exp has them."""
    import numpy as np
    try:
        g, e = as_numpy(got).astype(np.float64), as_numpy(exp).astype(np.float64)
    except (TypeError, ValueError):
        return False
    if g.shape != e.shape:
        return False
    if (np.isnan(g) != np.isnan(e)).any():
        return False
    if ((np.isinf(g) | np.isinf(e)) & ~(g == e) & ~np.isnan(e)).any():
        return False
    finite = np.isfinite(e) & np.isfinite(g)
    with np.errstate(invalid="ignore"):
        err = np.where(finite, np.abs(g - e), 0.0)
    return not (err > atol + rtol * np.abs(np.where(finite, e, 0.0))).any()


def judge(expect, root, raised_types):
    """(reproduced, expected text, got text) for one outcome; raised_types: the exception's
    class and base class names when the call raised, else None."""
    kind = expect["kind"]
    if kind == "raises":
        want = expect["type"]
        got = "no exception" if raised_types is None else raised_types[0]
        return raised_types is None or want not in raised_types, f"{want} raised", got
    if raised_types is not None:
        return True, "a return without an exception", f"{raised_types[0]} raised"
    if kind == "returns":
        return False, "a return without an exception", "it returned"
    exp = expect["expected"]
    try:
        got = pick(root, expect["path"])
    except Exception as exc:  # noqa: BLE001 - the outcome lacks the judged part: still wrong
        return True, repr(exp), f"nothing at {expect['path']} ({type(exc).__name__}: {exc})"
    if kind == "close":
        ok = close(got, exp, expect["rtol"], expect["atol"])
        return not ok, f"{exp!r}  (rtol={expect['rtol']:g}, atol={expect['atol']:g})", repr(got)
    return not same(got, exp), repr(exp), repr(got)
