"""Worker-side glue for robbins_monro: builds the noisy oracle and the step-size functions from
plain recipes, runs the attempt, and reports what happened (iterates, every oracle call, every
step_size call). It measures only; the suite judges.

The suite imports `make_oracle` / `make_step_size` too, so the reference in the checker runs
against an oracle identical to the attempt's: same slope, same root, same noise stream.
"""
import hashlib

import numpy as np

from checker.probes import CallCounter

SLOPES = {
    # All increasing with slope in (0, 1] and bounded: the classical Robbins–Monro setting.
    "tanh": np.tanh,
    "arctan": np.arctan,
    "softsign": lambda u: u / (1.0 + np.abs(u)),
    "linear": lambda u: u,
}


def make_oracle(recipe):
    """g(w) = gain * slope(w - w_star) + sigma * noise_i, where noise_i is the i-th draw of a
    generator seeded with recipe["seed"]: deterministic for a given seed and call sequence."""
    rng = np.random.default_rng(recipe["seed"])
    w_star = np.asarray(recipe["w_star"], dtype=np.float64)
    slope, gain, sigma = SLOPES[recipe["slope"]], float(recipe["gain"]), float(recipe["sigma"])

    def g(w):
        u = np.asarray(w, dtype=np.float64) - w_star
        return gain * slope(u) + sigma * rng.standard_normal(w_star.shape)
    return g


def _integer(k):
    if isinstance(k, (bool, np.bool_)) or not float(k).is_integer():
        raise TypeError(f"step_size expects an integer k (1, 2, ...), got {k!r}")
    return int(k)


def make_step_size(recipe):
    """None for the default (the attempt's own 1/k), else a_k from the recipe."""
    kind = recipe["kind"]
    if kind == "default":
        return None
    c = float(recipe.get("c", 1.0))
    if kind == "inv":
        return lambda k: c / _integer(k)
    if kind == "pow":
        p = float(recipe["p"])
        return lambda k: c / float(_integer(k)) ** p
    if kind == "shifted":
        k0 = int(recipe["k0"])
        return lambda k: c / (_integer(k) + k0)
    raise ValueError(kind)


def make_w0(recipe):
    kind, value = recipe["kind"], recipe["value"]
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    if kind == "array0d":
        return np.array(float(value))
    return np.array(value, dtype=recipe.get("dtype", "float64"))


def run(attempt, oracle, w0, steps, step):
    """Run the attempt's robbins_monro and report: its return value, each oracle call's argument
    (type, dtype, shape, value copied at call time), the k's step_size got, and whether the
    caller's w0 array is unchanged afterwards."""
    g = make_oracle(oracle)
    calls = []

    def recorded(w):
        a = np.asarray(w)
        # The value as nested Python floats (exact for float64): the codec turns a 0-d array
        # into shape (1,) (np.ascontiguousarray in checker/codec.py), lists keep 0-d as a float.
        calls.append((type(w).__name__, a.dtype.name, list(a.shape), a.astype(np.float64).tolist()))
        return g(w)
    counter = CallCounter(recorded)
    ks = []
    step_fn = make_step_size(step)
    w0v = make_w0(w0)
    w0_before = np.array(w0v, copy=True)
    kwargs = {}
    if step_fn is not None:
        def step_size(k):
            ks.append(k if isinstance(k, (int, float)) else repr(k))
            return step_fn(k)
        kwargs["step_size"] = step_size
    result = attempt.robbins_monro(counter, w0v, steps, **kwargs)
    w0_same = bool(np.array_equal(np.asarray(w0v), w0_before)) if isinstance(w0v, np.ndarray) else True
    return {"result": result, "n_calls": counter.calls,
            "call_types": [c[:3] for c in calls], "call_points": [c[3] for c in calls],
            "ks": ks[:200], "w0_unchanged": w0_same}


def run_mean(attempt, values, kind):
    """incremental_mean on `values` passed as a list, tuple, numpy array or one-shot generator."""
    if kind == "generator":
        arg = (v for v in values)
    elif kind == "tuple":
        arg = tuple(values)
    elif kind == "ndarray":
        arg = np.array(values, dtype=np.float64)
    else:
        arg = list(values)
    return attempt.incremental_mean(arg)


def big_stream(n, seed):
    """The values of the streaming-size case (same in checker and worker)."""
    return np.random.default_rng(seed).normal(3.0, 10.0, size=n).tolist()


def run_mean_stream(attempt, n, seed):
    """incremental_mean over a one-shot generator of n values; returns the last few means."""
    values = big_stream(n, seed)
    out = attempt.incremental_mean(v for v in values)
    a = np.asarray(out) if isinstance(out, np.ndarray) else out
    return {"shape": list(np.shape(a)), "tail": np.asarray(a, dtype=np.float64)[-5:] if np.ndim(a) == 1 else None}


def path_digest(path):
    """sha256 of a float64 path's bytes: lets the checker compare a long path bit for bit without
    shipping it (the suite computes the same digest of the reference's path)."""
    return hashlib.sha256(np.ascontiguousarray(path, dtype=np.float64).tobytes()).hexdigest()


def run_long(attempt, oracle, w0, steps, rows):
    """A long run with the default step size: the result's type, dtype and shape, its digest,
    the listed rows, and how many times g was called (no per-call record: the run is long)."""
    counter = CallCounter(make_oracle(oracle))
    start = make_w0(w0)
    result = attempt.robbins_monro(counter, start, steps)
    report = {"type": type(result).__name__, "n_calls": counter.calls, "dtype": None, "shape": None,
              "digest": None, "rows": {}}
    if isinstance(result, np.ndarray):
        report.update(dtype=str(result.dtype), shape=list(result.shape))
        if result.dtype == np.float64 and result.shape == (steps + 1, *np.shape(start)):
            report["digest"] = path_digest(result)
            report["rows"] = {str(i): result[i] for i in rows}
    return report
