"""Attempts that try to hide from a probe: each is seen, or its tampering fails the property.

Each attempt runs in a real worker (checker.proxy.WorkerProxy), so the tests cover the whole
path: the probe in the worker, the tampering message in its reply, the failed property.
"""
import os
import textwrap

import pytest

from checker.proxy import AttemptAbort, LoadSpec, WorkerProxy

MiB = 1 << 20


@pytest.fixture
def call(tmp_path):
    workers = []

    def run(source, probe, *, fn="f", torch=False, args=()):
        path = tmp_path / "attempt.py"
        path.write_text(textwrap.dedent(source))
        worker = WorkerProxy(LoadSpec(attempt=str(path), module="attempt", harness=None,
                                 preload=["torch"] if torch else [], forbidden=[], secret=[],
                                 memory_mb=2048, load_timeout=60))
        workers.append(worker)
        return worker.call(fn, list(args), {}, timeout=30, probes=[probe]), worker
    yield run
    for w in workers:
        w.stop()


def tampered(call, source, probe, words, **kw):
    with pytest.raises(AttemptAbort) as exc:
        call(source, probe, **kw)
    assert exc.value.status == "fail"
    assert words in exc.value.message, exc.value.message
    return exc.value


# ---- peak_memory: bytes, whichever library holds them ----------------------------------------
@pytest.mark.parametrize("body", [
    "x = torch.ones(2048, 1024, dtype=torch.float64); y = x * 2; return float(y[0, 0])",
    "a = np.ones((2048, 1024)); return float((a * 2).sum())",          # numpy, not torch
    "xs = [float(i) for i in range(1_000_000)]; return len(xs)",       # Python objects
    # torch tensors kept inside its own saved-tensor hooks (the checkpointing case 1)
    "with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):\n"
    "        w = torch.ones(1024, 1024, dtype=torch.float64, requires_grad=True)\n"
    "        y = (w * 2).tanh().exp()\n"
    "    return float(y.sum())",
    # dense scores in numpy, converted back (the flash_attention case 2)
    "q = np.ones((1024, 16), np.float32); s = q @ q.T; s = np.exp(s - s.max(1, keepdims=True))\n"
    "    return torch.from_numpy(s @ q).sum().item()",
])
def test_peak_memory_sees_every_library(call, body):
    src = f"import numpy as np\nimport torch\n\ndef f():\n    {body}\n"
    out, _ = call(src, "peak_memory", torch=True)
    reading = out.probes["peak_memory"]
    assert reading["rss"] and reading["peak_bytes"] >= 4 * MiB, reading


def test_peak_memory_of_a_small_call_is_small(call):
    out, _ = call("import torch\n\ndef f():\n    return float(torch.ones(64, 64).sum())\n",
                  "peak_memory", torch=True)
    assert out.probes["peak_memory"]["peak_bytes"] < 1 * MiB


def test_resetting_the_high_water_mark_is_refused_and_fails(call):
    src = """
    import numpy as np

    def f():
        a = np.ones((2048, 1024)); del a
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except PermissionError:
            pass
        return 0
    """
    tampered(call, src, "peak_memory", "clear_refs")


@pytest.mark.skipif(os.geteuid() != 0, reason="the grading sandbox's uid switch needs root")
def test_peak_memory_measures_inside_the_grading_sandbox(tmp_path):
    """A worker that switched to an unprivileged uid is not dumpable: its /proc files belong to
    root, so without care it could not reset its own high-water mark (and saw nothing)."""
    from checker.proxy import Sandbox
    from checker.zygote import Zygote
    path = tmp_path / "attempt.py"
    path.write_text("import numpy as np\n\ndef f():\n    return float(np.ones((1024, 1024)).sum())\n")
    zygote = Zygote(["numpy"])
    worker = WorkerProxy(LoadSpec(attempt=str(path), module="attempt", harness=None, preload=["numpy"],
                                  forbidden=[], secret=[], memory_mb=1024, load_timeout=30),
                         sandbox=Sandbox(zygote, uid=61990, gid=61990))
    try:
        reading = worker.call("f", [], {}, timeout=20, probes=["peak_memory"]).probes["peak_memory"]
    finally:
        worker.stop()
        zygote.close()
    assert reading["rss"] and reading["peak_bytes"] >= 7 * MiB, reading


# ---- python_peak_memory: tracemalloc ----------------------------------------------------------
def test_stopping_tracemalloc_fails(call):
    src = """
    import tracemalloc

    def f():
        tracemalloc.stop()
        return len([0] * 1_000_000)
    """
    tampered(call, src, "python_peak_memory", "tracemalloc")


# ---- line_count: the tracer ---------------------------------------------------------------------
LOOP = "    s = 0\n    for i in range(5000):\n        s += i\n    return s\n"


def test_line_count_counts_an_honest_loop(call):
    out, _ = call("def f():\n" + LOOP, "line_count")
    assert out.value == sum(range(5000)) and out.probes["line_count"] >= 10000


@pytest.mark.parametrize("trick, words", [
    ("import sys\n\ndef f():\n    try:\n        sys.settrace(None)\n    except RuntimeError:\n"
     "        pass\n" + LOOP, "sys.settrace"),
    ("import sys\n\ndef f():\n    sys._getframe().f_trace = None\n" + LOOP, "f_trace"),
    ("import sys\n\ndef f():\n    sys._getframe().f_trace_lines = False\n" + LOOP, "f_trace_lines"),
    ("import threading\n\ndef g():\n" + LOOP + "\ndef f():\n    t = threading.Thread(target=g)\n"
     "    t.start()\n    t.join()\n    return 0\n", "thread"),
])
def test_switching_off_the_tracer_fails(call, trick, words):
    tampered(call, trick, "line_count", words)


# ---- tensor_sizes: the dispatch mode ------------------------------------------------------------
DENSE = "torch.ones(512, 16) @ torch.ones(16, 512)"


def test_own_dispatch_mode_hides_nothing(call):
    src = f"""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Mine(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {{}}))

    def f():
        with Mine():
            return float(({DENSE}).sum())
    """
    out, _ = call(src, "tensor_sizes", torch=True)
    assert out.probes["tensor_sizes"]["max_numel"] == 512 * 512


@pytest.mark.parametrize("switch", [
    "torch.utils._python_dispatch._disable_current_modes()",
    "torch._C._DisableTorchDispatch()",
    "torch._C._ExcludeDispatchKeyGuard(torch._C.DispatchKeySet(torch._C.DispatchKey.Python))",
])
def test_switching_off_the_dispatch_mode_fails(call, switch):
    src = f"""
    import torch
    import torch.utils._python_dispatch

    def f():
        with {switch}:
            return float(({DENSE}).sum())
    """
    tampered(call, src, "tensor_sizes", "dispatch", torch=True)


def test_a_tampering_attempt_gets_a_fresh_worker(tmp_path):
    """The next call after a tampering one runs in a new process, measured from scratch."""
    path = tmp_path / "attempt.py"
    hides = "import sys\n\ndef f():\n    sys._getframe().f_trace = None\n" + LOOP
    path.write_text(hides + "\ndef g():\n" + LOOP)
    worker = WorkerProxy(LoadSpec(attempt=str(path), module="attempt", harness=None, preload=[], forbidden=[],
                             secret=[], memory_mb=512, load_timeout=30))
    try:
        with pytest.raises(AttemptAbort):
            worker.call("f", [], {}, timeout=10, probes=["line_count"])
        assert "probe-tamper" in worker.flags
        out = worker.call("g", [], {}, timeout=10, probes=["line_count"])
        assert worker.starts == 2 and out.probes["line_count"] >= 10000
    finally:
        worker.stop()


# ---- the katas: issue 10's cases 1 and 2, and their variants -----------------------------------
def _run_only(kata_id, prop_name, attempt):
    """One property of a real kata on one attempt file (a worker of its own)."""
    from checker import runner
    from checker.catalog import Catalog
    from checker.suite import collect

    catalog = Catalog()
    kata = catalog.get(kata_id)
    spec = LoadSpec(attempt=str(attempt), module=kata.id, harness=str(kata.harness) if kata.harness else None,
                    preload=kata.preload, forbidden=kata.forbidden, secret=catalog.secret_paths(),
                    memory_mb=kata.limits.memory_mb, load_timeout=kata.limits.load_timeout)
    worker = WorkerProxy(spec)
    try:
        suite = runner.load_module(kata.suite, f"kata_suite_{kata.id}")
        reference = runner.load_module(kata.reference, f"kata_reference_{kata.id}")
        prop = next(p for p in collect(suite) if p.name == prop_name)
        return runner.run_property(prop, worker, reference, kata, 1, None)
    finally:
        worker.stop()


@pytest.mark.parametrize("kata_id, prop_name, attempt, status", [
    # case 1: a plain forward inside the attempt's own saved_tensors_hooks
    ("checkpointing", "memory_deep_stack", "own_hooks_plain", "fail"),
    # its variant: every activation kept as a numpy copy on ctx, no tensor saved
    ("checkpointing", "memory_deep_stack", "numpy_stash", "fail"),
    ("checkpointing", "memory_deep_stack", "reference", "pass"),
    # case 2: dense attention computed in numpy and converted back
    ("flash_attention", "peak_memory", "numpy_dense", "fail"),
    # dense torch attention with the dispatch modes switched off: seen by bytes, and as tampering
    ("flash_attention", "peak_memory", "modes_off", "fail"),
    ("flash_attention", "no_full_scores", "modes_off", "fail"),
    ("flash_attention", "peak_memory", "reference", "pass"),
])
def test_kata_memory_properties_see_through_hiding(kata_id, prop_name, attempt, status, tmp_path):
    from checker.catalog import Catalog
    from checker.mutants import load_mutants, write_attempt
    kata = Catalog().get(kata_id)
    path = kata.reference if attempt == "reference" else write_attempt(
        kata, next(m for m in load_mutants(kata) if m.name == attempt), tmp_path)
    result = _run_only(kata_id, prop_name, path)
    assert result.status == status, result.message
    if attempt == "modes_off" and prop_name == "no_full_scores":
        assert "dispatch" in result.message
