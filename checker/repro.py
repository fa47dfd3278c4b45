"""The failing call of a property, shown as the attempt received it, and a standalone script
that replays it.

A script imports the attempt from the path on its command line, builds the failing call's
arguments from literals (small tensors written out), makes the call the suite made (through the
kata's harness.py when the suite used it: the harness is not secret, it runs next to every
attempt), and judges the outcome with checker.repro_runtime against an expectation embedded as
data: the expected value and comparison (tolerance, or the exception) the property itself used,
or, when the property judged something derived from the outcome, the reference's own outcome of
the same call (only for exact data: no floats, where equality is the contract). It prints
expected and got and exits 1 when the failure reproduces, 0 when it does not.

Not offered (a reason is given instead): timeouts, crashes and forbidden calls (the status is
the process's fate, not a value), inputs too large to write out (the big timing and memory
cases), properties judged on probe readings or timings, and values with no literal form.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

from checker import repro_runtime
from checker import codec
from checker.codec import Opaque
from checker.proxy import AttemptRaised
from checker.suite import Call, Failed, show

MAX_LITERAL = 60_000  # characters of arguments and expected data; more is a big, timed case
_RUNTIME = Path(repro_runtime.__file__).read_text()


@dataclass
class Failure:
    calls: list            # the failing example's Calls, in order
    exc: BaseException     # what failed the property
    reference: object      # the reference module (for parameter names and the fallback)


class NotOffered(Exception):
    """Why a failure has no reproduction script."""


# ---- the call, in words -------------------------------------------------------------------------
def bound_args(call: Call, reference) -> list[tuple[str | None, object]]:
    """(parameter name or None, value) for each argument, names from the reference's signature."""
    fn = getattr(reference, call.fn, None) if call.via == "attempt" else None
    try:
        bound = inspect.signature(fn).bind(*call.args, **call.kwargs)
        return list(bound.arguments.items())
    except (TypeError, ValueError):
        return [(None, a) for a in call.args] + list(call.kwargs.items())


def describe_call(call: Call, reference) -> str:
    parts = [show(v) if n is None else f"{n}={show(v)}" for n, v in bound_args(call, reference)]
    text = f"{call.fn}({', '.join(parts)})"
    return text if call.via == "attempt" else f"harness.{call.fn}(attempt, {', '.join(parts)})".replace(
        "(attempt, )", "(attempt)")


# ---- literals ---------------------------------------------------------------------------------
def literal(value) -> str:
    """Python source that builds `value` (NotOffered when it has none)."""
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return repr(value)
    if isinstance(value, float):
        return repr(value)  # inf and nan are names the script defines; repr round-trips exactly
    if isinstance(value, tuple):
        inner = ", ".join(map(literal, value))
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(map(literal, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    kind = type(value).__module__.split(".")[0]
    if kind == "numpy" and hasattr(value, "shape"):
        if value.ndim == 0 or type(value).__name__ != "ndarray":
            return f"np.{value.dtype.name}({literal(value.item())})"
        return _shaped(f"np.array({literal(value.tolist())}, dtype=np.{value.dtype.name})", value)
    if kind == "torch" and type(value).__name__ in ("Tensor", "Parameter"):
        dtype = str(value.dtype).replace("torch.", "")
        data = value.detach().float() if dtype == "bfloat16" else value.detach()
        text = _shaped(f"torch.tensor({literal(data.tolist())}, dtype=torch.{dtype})", value)
        return text + (".requires_grad_()" if value.requires_grad else "")
    if isinstance(value, Opaque):
        raise NotOffered(f"a {value.type_name} object has no literal form")
    raise NotOffered(f"a {type(value).__name__} value has no literal form")


def _shaped(text, value):
    return text + f".reshape{tuple(value.shape)}" if 0 in tuple(value.shape) else text


# ---- what the script expects --------------------------------------------------------------------
def _root(call: Call) -> dict:
    o = call.outcome
    return {"value": o.value, "args": list(o.args), "kwargs": dict(o.kwargs)} if o else {}


def _children(x):
    if isinstance(x, dict):
        return list(x.items())
    if isinstance(x, (list, tuple)) and len(x) <= 64:
        return list(enumerate(x))
    if repro_runtime.is_array(x) and len(x.shape) >= 2 and x.shape[0] <= 64 and _size(x) <= 4096:
        return list(enumerate(x))  # rows: a suite that reports the first wrong row
    return []


def _size(x):
    n = 1
    for d in x.shape:
        n *= int(d)
    return n


def locate(root, target):
    """The path to `target` in the outcome: by identity, else a unique equal value, else a unique
    value derived from an array (its shape, dtype or .tolist(), of a row too)."""
    found, equal, derived = None, [], []

    def walk(x, path, depth):
        nonlocal found
        if found is not None or depth > 6:
            return
        if x is target and (isinstance(x, (list, tuple, dict)) or repro_runtime.is_array(x)):
            found = path  # identity only for containers: small ints and strings are shared objects
            return
        if repro_runtime.is_array(x):
            for step in (".shape", ".dtype", ".tolist"):
                if repro_runtime.same(repro_runtime.pick(x, [step]), target):
                    derived.append(path + [step])
            if len(x.shape) == 1 and _size(x) <= 4096 and isinstance(target, (int, float)):
                derived.extend(path + [i, ".tolist"] for i, v in enumerate(x.tolist())
                               if repro_runtime.same(v, target))
        elif depth and not isinstance(target, (bool, type(None))) and repro_runtime.same(x, target):
            equal.append(path)
        for key, child in _children(x):
            walk(child, path + [key], depth + 1)

    walk(root, [], 0)
    if found is not None:
        return found
    for paths in (equal, derived):
        if len(paths) == 1:
            return paths[0]
        if paths:
            return None  # ambiguous: better no script than one judging the wrong value
    return None


def expectation(failure: Failure) -> dict | None:
    """From the property's own failure; None when the failure names no value in the outcome."""
    exc, call = failure.exc, failure.calls[-1]
    compare = exc.compare if isinstance(exc, Failed) else None
    if compare and compare.get("kind") == "raises":
        return {"kind": "raises", "type": compare["type"]}
    if isinstance(exc, AttemptRaised):
        return {"kind": "returns"} if call.raised is exc else None
    if isinstance(exc, Failed) and call.raised is not None:
        return {"kind": "returns"}  # the property turned the call's exception into its verdict
    if not isinstance(exc, Failed) or call.outcome is None:
        return None
    compare = compare or {}
    got = compare.get("got", exc.got_value)
    expected = compare.get("expected", exc.expected_value)
    path = locate(_root(call), got)
    if path is None or path == []:
        return None
    if isinstance(expected, str) and path[-1] != ".dtype":
        return None  # a description of the expected value ("node 3 (for p = 1, ...)"), not one
    if compare.get("kind") == "close":
        return {"kind": "close", "path": path, "expected": expected,
                "rtol": compare["rtol"], "atol": compare["atol"]}
    return {"kind": "equal", "path": path, "expected": expected}


def _exact(value) -> bool:
    if isinstance(value, float) or repro_runtime.is_array(value):
        return False
    if isinstance(value, dict):
        return all(map(_exact, value.values()))
    if isinstance(value, (list, tuple)):
        return all(map(_exact, value))
    return value is None or isinstance(value, (bool, int, str))


def from_reference(failure: Failure, ref) -> dict | None:
    """The fallback for exact data: the call's outcome must equal the reference's outcome of the
    same call, narrowed to the first entry where the attempt's differed (a harness's report also
    carries entries, like counts, that a correct attempt need not share with the reference)."""
    call, (root, raised) = failure.calls[-1], ref
    mine = _root(call)
    if raised is not None or call.outcome is None or not _exact(mine) or not _exact(root):
        return None
    path = ["value"] if not call.return_args else []
    while True:
        a, b = repro_runtime.pick(mine, path), repro_runtime.pick(root, path)
        if not (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()):
            break
        differ = [key for key in a if not repro_runtime.same(a[key], b[key])]
        if not differ:
            break
        path = path + [differ[0]]
    return {"kind": "equal", "path": path, "expected": repro_runtime.pick(root, path)}


def _judge(expect, root, raised) -> bool:
    try:
        return repro_runtime.judge(expect, root, raised)[0]
    except Exception:  # noqa: BLE001 - a path that does not apply: not a reproduction
        return True


def recorded(call: Call):
    """(outcome root, raised type names or None) of a recorded call."""
    raised = (call.raised.types or [call.raised.type_name]) if call.raised else None
    return _root(call), raised


# ---- the script -------------------------------------------------------------------------------
def script(failure: Failure, expect: dict, *, kata, prop: str, seed: int, harness: bool) -> str:
    call = failure.calls[-1]
    args = literal(list(call.args))
    kwargs = literal(dict(call.kwargs))
    expected = literal(expect)
    if len(args) + len(kwargs) + len(expected) > MAX_LITERAL:
        raise NotOffered("the failing input is too large to write out (a big timing or memory case)")
    text = args + kwargs + expected
    imports = ["import importlib.util", "import random", "import sys"]
    if "np." in text or "numpy" in (kata.preload or []):
        imports.append("import numpy as np")
    if "torch." in text or "torch" in (kata.preload or []):
        imports.append("import torch")
    how = f"harness.{call.fn}(attempt, *ARGS, **KWARGS)" if harness else f"attempt.{call.fn}(*ARGS, **KWARGS)"
    harness_import = (f"    harness = _load({str(kata.harness)!r}, \"kata_harness\")\n" if harness else "")
    return _TEMPLATE.format(
        prop=prop, kata=kata.id, seed=seed, imports="\n".join(imports), args=args, kwargs=kwargs,
        expect=expected, runtime=_RUNTIME, module=kata.id, how=how, harness_import=harness_import,
        call=describe_call(call, failure.reference).replace("\\", "\\\\").replace('"""', "'''"))


_TEMPLATE = '''#!/usr/bin/env python3
"""Reproduces the failure of `{prop}` (kata {kata}, seed {seed}).

    python repro_{prop}.py path/to/{module}.py
prints expected and got; exit 1: the failure reproduces, 0: it does not.
The call: {call}
"""
{imports}

nan, inf = float("nan"), float("inf")
ARGS = {args}
KWARGS = {kwargs}
EXPECT = {expect}

# ---- how the outcome is judged (checker/repro_runtime.py) ----
{runtime}

def _load(path, name="{module}"):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    attempt = _load(argv[1])
{harness_import}    random.seed(0)  # the checker's workers start from seed 0 too
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(0)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(0)
    raised = None
    value = None
    try:
        value = {how}
    except Exception as exc:  # noqa: BLE001 - the attempt's exception is part of the outcome
        if EXPECT["kind"] != "raises":
            import traceback
            traceback.print_exc()
        raised = [t.__name__ for t in type(exc).__mro__]
    root = {{"value": value, "args": ARGS, "kwargs": KWARGS}}
    failed, expected, got = judge(EXPECT, root, raised)
    print("expected:", expected)
    print("     got:", got)
    print("the failure reproduces" if failed else "no failure: this call now behaves as expected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
'''


def build(failure: Failure, *, kata, prop: str, seed: int, ref=None) -> str:
    """The script, or NotOffered with the reason. ref: (root, raised) of the reference's
    outcome of the same call; the script is offered only if it passes there and fails on the
    attempt's recorded outcome."""
    if not isinstance(failure.exc, Exception):
        raise NotOffered("a timeout, crash or forbidden call is not a value a script can compare")
    expect = expectation(failure)
    if expect is None and ref is not None:
        expect = from_reference(failure, ref)
    if expect is None:
        raise NotOffered("the property judged something derived from the call (a count, a time, "
                         "a probe reading), not a value a script can compare")
    if not _judge(expect, *recorded(failure.calls[-1])):
        raise NotOffered("the property judged something the call's values do not show "
                         "(a count, a time, a probe reading)")
    if ref is None or _judge(expect, *ref):
        raise NotOffered("the reference's own outcome of this call would not pass the comparison")
    return script(failure, expect, kata=kata, prop=prop, seed=seed,
                  harness=failure.calls[-1].via == "harness")


def attach(results, *, kata, seed, reference, reference_worker):
    """Set `repro` (the script) or `repro_note` (why none) on each failed result.

    The reference's outcome of each failing call is computed first (in this process for a call
    of the attempt's own function, in a worker made by reference_worker() for a harness call):
    a script is offered only when the reference passes it."""
    worker = None
    try:
        for r in results:
            failure = getattr(r, "_failure", None)
            if r.passed or failure is None:
                continue
            try:
                if not isinstance(failure.exc, Exception):
                    raise NotOffered("a timeout, crash or forbidden call is not a value a script "
                                     "can compare")
                call = failure.calls[-1]
                if len(literal([call.args, call.kwargs])) > MAX_LITERAL:
                    raise NotOffered("the failing input is too large to write out (a big timing "
                                     "or memory case)")
                if call.via == "harness":
                    worker = worker or reference_worker()
                    ref = _reference_harness(worker, call, kata.limits.call_timeout)
                else:
                    ref = _reference_call(reference, call)
                r.repro = build(failure, kata=kata, prop=r.name, seed=seed, ref=ref)
            except NotOffered as exc:
                r.repro_note = str(exc)
            except Exception as exc:  # noqa: BLE001 - never let a script cost the learner the report
                r.repro_note = f"the script could not be written ({type(exc).__name__}: {exc})"
    finally:
        if worker is not None:
            worker.stop()


def _reference_harness(worker, call, timeout):
    try:
        o = worker.harness(call.fn, call.args, call.kwargs, timeout=timeout)
    except AttemptRaised as exc:
        return {}, exc.types or [exc.type_name]
    except BaseException as exc:  # noqa: BLE001 - the reference timed out or its worker died
        raise NotOffered(f"the reference's outcome of this call could not be computed ({exc})") from None
    return {"value": o.value, "args": [], "kwargs": {}}, None


def _reference_call(reference, call):
    args, kwargs = codec.loads(codec.dumps([list(call.args), dict(call.kwargs)]))  # fresh copies
    try:
        value = getattr(reference, call.fn)(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - an error the suite expects (k.raises), for one
        return {}, [t.__name__ for t in type(exc).__mro__]
    return {"value": value, "args": args, "kwargs": kwargs}, None


def emit(report, prop: str, out, attempt) -> int:
    """`kata check NAME --repro PROP [--out FILE]`: print or write the script; the exit code is 0
    when a script was given, 1 when the property passed or has none (the reason on stderr)."""
    import click
    r = next(p for p in report.properties if p.name == prop)
    if r.passed:
        click.echo(f"{prop} passes (score {report.score:g}): there is no failure to reproduce.", err=True)
        return 1
    if not r.repro:
        why = r.repro_note or report.error or f"{prop} failed with status {r.status}"
        click.echo(f"No reproduction script for {prop} ({r.status}): {why}.", err=True)
        return 1
    if out is None:
        click.echo(r.repro, nl=False)
    else:
        Path(out).write_text(r.repro)
        click.echo(f"Wrote {out}. Run it: python {out} {attempt}", err=True)
    return 0
