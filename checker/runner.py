"""Run a kata's hidden suite against one attempt and build the Report.

The suite's properties and the reference run here, in the checker; every call into the attempt
goes through a WorkerProxy (checker.proxy) to a separate process.
"""
from __future__ import annotations

import functools
import importlib.util
import random
import re
import sys
import textwrap
import time
import traceback
import zlib
from pathlib import Path

from checker.catalog import Catalog, Kata
from checker.proxy import (AttemptAbort, AttemptRaised, EngineError, LoadFailed, LoadSpec, Sandbox,
                           WorkerProxy)
from checker.report import PropertyResult, Report
from checker.suite import Context, Failed, collect, show

_modules: dict[str, object] = {}
ENGINE_DIR = Path(__file__).resolve().parent

# The per-check time budget: after this many properties ended by a timeout, the attempt is not
# called again in this check. Counted in timeouts, not seconds, so the rule itself reads no
# clock: a submission that hangs costs (TIMEOUTS_PER_CHECK x call limit), and the same
# properties are skipped on a loaded machine as on an idle one.
TIMEOUTS_PER_CHECK = 2
NOT_RUN = "not run: the attempt timed out twice in this check (time budget)"


def load_module(path: Path, name: str):
    """Import a checker-side file (suite or reference) once per process."""
    key = str(path)
    if key not in _modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _modules[key] = module
    return _modules[key]


def suite_properties(kata: Kata):
    """The scored properties of a kata's hidden suite, in definition order (checker side)."""
    return collect(load_module(kata.suite, f"kata_suite_{kata.id}"))


def property_names(kata: Kata) -> list[str]:
    return [p.name for p in suite_properties(kata)]


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31)


def check(catalog: Catalog, kata: Kata, attempt: Path, *, seed: int | None = None,
          database=None, sandbox: Sandbox | None = None, on_property=None, repro=False, only=None) -> Report:
    """Score `attempt` on `kata`. database: a hypothesis example database, or None; sandbox:
    how a grader isolates a stranger's attempt (None: a plain worker, as for `kata check`).
    repro: write a reproduction script for each failed property (checker.repro).
    only: run just these properties (by name), e.g. the one a repro is asked for."""
    seed = new_seed() if seed is None else seed
    t0 = time.perf_counter()
    spec = LoadSpec(attempt=str(Path(attempt).resolve()), module=kata.id,
                    harness=str(kata.harness) if kata.harness else None, preload=kata.preload,
                    forbidden=kata.forbidden, secret=catalog.secret_paths(),
                    memory_mb=kata.limits.memory_mb, load_timeout=kata.limits.load_timeout)
    worker = WorkerProxy(spec, sandbox=sandbox)
    report = Report(kata=kata.id, seed=seed, attempt=str(attempt), properties=[], version=kata.version())
    try:
        worker.begin()  # the worker loads its modules while the checker loads the suite
        try:
            props = [p for p in suite_properties(kata) if only is None or p.name in only]
            reference = load_module(kata.reference, f"kata_reference_{kata.id}")
        except Exception:  # noqa: BLE001 - the kata's own files: the engine's failure
            report.engine_error = "loading the kata's suite or reference failed:\n" + traceback.format_exc()
            return report
        try:
            worker.ensure()
        except (LoadFailed, AttemptAbort) as exc:
            report.error = exc.message
            report.flags.append("load-" + getattr(exc, "kind", getattr(exc, "status", "error")))
            report.properties = [PropertyResult(p.name, p.weight, p.description, "error",
                                                "the attempt could not be loaded") for p in props]
            return report
        timeouts = 0
        for p in props:
            if timeouts >= TIMEOUTS_PER_CHECK:
                result = PropertyResult(p.name, p.weight, p.description, "timeout", NOT_RUN)
                report.flags.append("time-budget")
            else:
                result = run_property(p, worker, reference, kata, seed, database)
                timeouts += result.status == "timeout"
            report.properties.append(result)
            if on_property:
                on_property(result)
        if repro:
            _attach_repros(report, kata, seed, reference, spec)
        from checker.diagnose import diagnose
        report.diagnosis = diagnose(kata, report)
    except EngineError as exc:
        report.engine_error = exc.message
    finally:
        worker.stop()
        report.flags = sorted(set(report.flags) | worker.flags)
        report.seconds = time.perf_counter() - t0
    return report


def _attach_repros(report, kata, seed, reference, spec):
    from dataclasses import replace

    from checker import repro

    def reference_worker():
        w = WorkerProxy(replace(spec, attempt=str(kata.reference.resolve())))
        w.ensure()
        return w
    repro.attach(report.properties, kata=kata, seed=seed, reference=reference,
                 reference_worker=reference_worker)


def _no_local_constants():
    """Make hypothesis's draws depend on the seed alone.

    Hypothesis mixes into its draws literal constants harvested from every non-library module
    imported so far (providers._get_local_constants), so the cases a property tries depend on
    what the process loaded before: a grading slot that already checked other katas drew
    different cases from a fresh process, and a mutant's grade changed between two runs. An
    empty pool keeps a seed's cases the same in any process.
    """
    try:
        from hypothesis.internal.conjecture import providers
        empty = type(providers._local_constants)(
            integers=providers.SortedSet(), floats=providers.SortedSet(key=providers.float_to_int),
            bytes=providers.SortedSet(), strings=providers.SortedSet())
    except (ImportError, AttributeError, TypeError):
        return  # another hypothesis version: nothing of the kind to pin
    providers._get_local_constants = lambda: empty


def run_property(p, worker, reference, kata, seed, database) -> PropertyResult:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hyp_seed
    from hypothesis.errors import Flaky, HypothesisException
    from hypothesis.reporting import with_reporter

    _no_local_constants()
    t0 = time.perf_counter()
    result = PropertyResult(p.name, p.weight, p.description, "pass")
    if p.fresh_worker:
        worker.stop()
    budget = p.timeout or kata.limits.property_timeout
    ctx = Context(worker, reference, kata.limits, budget)
    lines: list[str] = []
    smallest = _Smallest()
    try:
        if p.given is None:
            p.fn(ctx)
        else:
            test = given(**p.given)(smallest.watch(p.fn))
            # seed() first: it resets the database to None, and the settings applied after it
            # bring the example database back, so failures are saved and replayed.
            test = hyp_seed(seed ^ zlib.crc32(p.name.encode()))(test)
            test = settings(max_examples=p.examples, deadline=None, database=database,
                            suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                            print_blob=False, verbosity=Verbosity.normal,
                            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])(test)
            with with_reporter(lines.append):
                test(ctx)
    except AttemptAbort as exc:
        result.status, result.message = exc.status, exc.message
        if smallest.failure is not None and exc.status == "timeout":
            # Ran out of time while shrinking: report the smallest failure seen so far.
            _fill_failure(result, smallest.failure, smallest.input)
            _note_call(result, smallest.calls, smallest.failure, reference)
        else:
            result.input = smallest.current
            _note_call(result, ctx.calls, exc, reference)
    except Flaky as exc:
        result.status = "fail"
        result.message = ("the attempt gave different results on the same input "
                          f"(non-deterministic): {exc}")
    except HypothesisException as exc:
        raise EngineError(f"property {p.name}: the suite misuses hypothesis:\n{_engine_traceback(exc)}") from None
    except Exception as exc:  # a failed property: AssertionError, AttemptRaised, anything else
        if _engine_side(exc, kata):
            raise EngineError(f"property {p.name} failed inside the engine, not the attempt:\n"
                              f"{_engine_traceback(exc)}") from None
        _fill_failure(result, exc, _falsifying(lines) or smallest.current)
        _note_call(result, ctx.calls, exc, reference)
    result.seconds = time.perf_counter() - t0
    return result


def _engine_side(exc, kata) -> bool:
    """True when the checker's own code raised, not the suite judging the attempt's values.

    The attempt runs elsewhere, so an exception here comes from the suite, the reference, the
    harness or the engine. The innermost of those frames decides: the suite or the harness (they
    handle what the attempt returned, which may be malformed) is a failed property; the reference
    (given the suite's own input) or the engine is the engine's failure. A failed import is the
    environment's, wherever it happens.
    """
    if isinstance(exc, (AssertionError, AttemptRaised)):
        return False
    if isinstance(exc, ImportError):
        return True
    judging = {str(Path(kata.suite).resolve())} | ({str(Path(kata.harness).resolve())} if kata.harness else set())
    engine = {str(Path(kata.reference).resolve())}
    innermost = None
    for frame in traceback.extract_tb(exc.__traceback__):
        path = str(Path(frame.filename).resolve())
        if path in judging or path in engine or Path(path).parent == ENGINE_DIR:
            innermost = path
    return innermost is None or innermost not in judging


def _engine_traceback(exc) -> str:
    """The traceback without hypothesis's own frames (the engine side is what matters)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/hypothesis/" not in f.filename]
    return "".join(traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)).rstrip()


def _note_call(result, calls, exc, reference):
    """The failing call as the attempt received it (the last request before the failure), and
    what a reproduction script needs (checker.repro), kept off the dataclass fields."""
    if calls:
        from checker import repro
        result.call = repro.describe_call(calls[-1], reference)
        result._failure = repro.Failure(list(calls), exc, reference)


def _fill_failure(result, exc, input_text):
    result.input = input_text
    if isinstance(exc, AttemptRaised):
        result.status = "error"
        result.message = f"the attempt raised {exc.type_name}\n{exc.message}"
    elif isinstance(exc, Failed):
        result.status = "fail"
        result.message = exc.rule
        result.expected, result.got = exc.expected, exc.got
    else:
        result.status = "fail"
        text = str(exc) or type(exc).__name__
        result.message = text if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {text}"


class _Smallest:
    """Remembers the input being tried and the smallest failing one (for timeouts and crashes).

    Inputs are formatted only when needed (a failure, or a report): rendering every passing
    example's tensors would cost milliseconds each.
    """

    def __init__(self):
        self._drawn = None
        self.input = None
        self.failure = None
        self.calls = []

    @property
    def current(self):
        return None if self._drawn is None else _format_args(self._drawn)

    def watch(self, fn):
        @functools.wraps(fn)
        def body(k, **drawn):
            self._drawn = drawn
            k.calls = []  # each example's own requests: the failing call is the last of them
            try:
                return fn(k, **drawn)
            except Exception as exc:
                text = _format_args(drawn)
                if self.input is None or len(text) <= len(self.input):
                    self.input, self.failure, self.calls = text, exc, k.calls
                raise
        return body


def _format_args(drawn: dict) -> str:
    return ", ".join(f"{k}={show(v)}" for k, v in drawn.items())


def _falsifying(lines: list[str]) -> str | None:
    """The argument list of hypothesis's 'Falsifying example: prop(k=k, x=...)' report."""
    for text in lines:
        if text.startswith("Falsifying example"):
            body = text.split("(", 1)[1].rsplit(")", 1)[0] if "(" in text else text
            body = textwrap.dedent(body.strip("\n"))
            keep = [ln for ln in body.splitlines() if not re.match(r"\s*k=k,?\s*$", ln)]
            out = "\n".join(keep).strip().rstrip(",")
            return out if len(out) <= 1500 else out[:1500] + "…"
    return None
