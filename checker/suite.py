"""What a hidden suite is written with: `@prop`, the context `k`, and failure helpers.

    from checker.suite import prop, expect, fail

    @prop(weight=3, given={"xs": st.lists(st.integers())}, examples=50)
    def sorts(k, xs):
        '''The result is the input in non-decreasing order.'''   # one line, shown in reports
        got = k.attempt.my_sort(list(xs))                          # runs in the worker
        expect(got == k.ref.my_sort(list(xs)), "equals the reference", expected=..., got=got)

A property runs in the checker. `k.attempt.NAME(...)` calls the attempt's function in the worker
and returns its value; `k.invoke` also returns the arguments after the call (to see in-place
changes), probe readings and timing; `k.harness` runs a function of the kata's harness.py in the
worker; `k.ref` is the reference module, loaded in the checker only.
"""
from __future__ import annotations

import contextlib
import reprlib
import time
from dataclasses import dataclass

from checker.proxy import AttemptAbort, AttemptRaised, Outcome

_MISSING = object()


class Failed(AssertionError):
    """A violated rule, with what was expected and what the attempt gave.

    The raw values are kept too (`expected_value`, `got_value`) with `compare`, how they were
    compared ({"kind": "close", "rtol", "atol"}; None: plain equality): a reproduction script
    (checker.repro) finds `got` in the failing call's outcome and embeds `expected` as data.
    """

    def __init__(self, rule: str, expected=_MISSING, got=_MISSING, compare=None):
        super().__init__(rule)
        self.rule = rule
        self.expected_value, self.got_value, self.compare = expected, got, compare
        self.expected = None if expected is _MISSING else show(expected)
        self.got = None if got is _MISSING else show(got)


def fail(rule: str, *, expected=_MISSING, got=_MISSING, compare=None):
    raise Failed(rule, expected, got, compare)


def expect(ok, rule: str, *, expected=_MISSING, got=_MISSING, compare=None):
    if not ok:
        raise Failed(rule, expected, got, compare)


_repr = reprlib.Repr()
_repr.maxlist = _repr.maxtuple = 24
_repr.maxdict = 12
_repr.maxstring = _repr.maxother = 300
_repr.maxlevel = 4


def show(value) -> str:
    """A short, readable rendering of a value for a report."""
    if isinstance(value, str):
        return value if len(value) <= 600 else value[:600] + "…"
    text = _repr.repr(value)
    return text if len(text) <= 600 else text[:600] + "…"


@dataclass
class Call:
    """One request a property made of the worker, kept for the failure report and the repro."""
    via: str                  # "attempt" (the attempt's function) or "harness" (harness.py's)
    fn: str
    args: tuple
    kwargs: dict
    return_args: bool = False
    outcome: Outcome | None = None
    raised: AttemptRaised | None = None


@dataclass
class Prop:
    fn: object
    name: str
    weight: float
    description: str
    given: dict | None
    examples: int
    fresh_worker: bool
    timeout: float | None


def prop(*, weight: float = 1, given: dict | None = None, examples: int = 40,
         name: str | None = None, fresh_worker: bool = False, timeout: float | None = None):
    """Mark a function as a scored property. Its docstring's first line is its description.

    given: hypothesis strategies by argument name (None: the property runs once, e.g. a
    statistical property with its own fixed seeds). examples: hypothesis max_examples.
    fresh_worker: start from a new worker process (for measurements that want a clean process).
    timeout: this property's overall time budget in seconds (default: the kata's limit).
    """
    if weight <= 0:
        raise ValueError("a property's weight must be positive")

    def mark(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        fn._kata_prop = Prop(fn, name or fn.__name__, weight, doc[0] if doc else "", given,
                             examples, fresh_worker, timeout)
        return fn
    return mark


def collect(module) -> list[Prop]:
    """The properties of a suite module, in the order they are defined."""
    return [v._kata_prop for v in vars(module).values() if hasattr(v, "_kata_prop")]


class _AttemptFunctions:
    def __init__(self, ctx):
        self._ctx = ctx

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._ctx.invoke(name, *args, **kwargs).value


class Context:
    """The `k` every property receives."""

    def __init__(self, worker, reference, limits, budget):
        self._worker = worker
        self.ref = reference
        self.limits = limits
        self.attempt = _AttemptFunctions(self)
        self._deadline = time.monotonic() + budget
        self._budget = budget
        self.calls: list[Call] = []   # this example's requests, in order (the runner resets it)

    def __repr__(self):
        return "k"

    def _timeout(self, timeout):
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise AttemptAbort("timeout", f"the property ran out of its {self._budget:g} s budget: "
                                          "the attempt is too slow")
        return min(timeout or self.limits.call_timeout, left)

    def invoke(self, fn: str, *args, probes=(), return_args=False, timeout=None, **kwargs) -> Outcome:
        """Call the attempt's `fn` in the worker; the Outcome has value, args after, probes, elapsed."""
        call = Call("attempt", fn, args, kwargs, return_args)
        return self._record(call, lambda: self._worker.call(
            fn, args, kwargs, timeout=self._timeout(timeout), probes=probes, return_args=return_args))

    def harness(self, fn: str, *args, timeout=None, **kwargs) -> Outcome:
        """Run `fn(attempt_module, *args, **kwargs)` from the kata's harness.py in the worker."""
        call = Call("harness", fn, args, kwargs)
        return self._record(call, lambda: self._worker.harness(fn, args, kwargs,
                                                               timeout=self._timeout(timeout)))

    def _record(self, call, request):
        self.calls.append(call)
        try:
            call.outcome = request()
        except AttemptRaised as exc:
            call.raised = exc
            raise
        return call.outcome

    def fresh(self):
        """End the current worker; the next call starts a new one."""
        self._worker.stop()

    @contextlib.contextmanager
    def raises(self, type_name: str, rule: str | None = None):
        """Expect the attempt to raise `type_name` (or a subclass) inside the block."""
        try:
            yield
        except AttemptRaised as exc:
            if not exc.is_a(type_name):
                fail(rule or f"should raise {type_name}", expected=type_name,
                     got=f"{exc.type_name}: {exc.message.splitlines()[-1]}",
                     compare={"kind": "raises", "type": type_name})
            return
        fail(rule or f"should raise {type_name}", expected=f"{type_name} raised", got="no exception",
             compare={"kind": "raises", "type": type_name})
