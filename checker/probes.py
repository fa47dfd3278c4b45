"""Worker-side measurements of an attempt's call: memory, work, tensors, calls.

These run in the worker because only there can they see the attempt run (see guard.py for the
trust boundary: a probe reports, the checker judges). Each probe is a context manager with a
`result()` that returns plain data. A suite asks for probes by name through `Context.invoke`;
a kata harness may use the classes directly.

A probe runs in the attempt's own process, so the attempt could try to switch it off. Each probe
either measures through a channel the attempt does not control (peak_memory reads the kernel's
counters of the process's resident memory), or detects being switched off (its tracer replaced,
its dispatch mode popped, tracemalloc stopped). A detection is recorded with `tampered()`; the
worker sends the messages with its reply, and the checker fails the property with them (the
worker is restarted, so later properties measure a clean process). This is for attempts that
reach for the obvious switches; like the rest of the guard it does not stop raw system calls
through ctypes (see guard.py). `install()` arms the detections; the worker calls it before the
attempt is imported. Every probe's docstring says what it cannot see.
"""
from __future__ import annotations

import os
import sys
import tracemalloc

from checker.probe_memory import PeakMemory, PythonPeakMemory, _Proc, _Traced  # noqa: F401 (re-exported)
from checker.probe_state import (  # noqa: F401 (re-exported)
    _TRACEMALLOC, _active, _active_of, take_engine_faults, take_tampering, tampered)

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
LINE_CAP = 2_000_000

_own_settrace = False        # True while a probe itself calls sys.settrace


# ---- work -----------------------------------------------------------------------------------
class LineCount:
    """Python lines executed during the call, outside the engine: a deterministic work count.

    Unlike wall time it does not depend on machine load. It does not see work done in C (a
    builtin's loop, numpy, torch), so pair it with a time comparison where that matters. Counting
    stops at LINE_CAP lines (the result is then exactly LINE_CAP, read "at least"): a traced line
    costs ~0.4 µs, so an uncapped quadratic attempt would spend the call's time limit being counted
    and the verdict would depend on machine load instead of on the count.

    Cannot see: C loops; threads other than the caller's (a thread started during the call is
    detected). Switching it off is detected: sys.settrace by the attempt (refused and reported),
    a frame's f_trace cleared (its return never reaches the tracer) or f_trace_lines turned off.
    """

    def __init__(self, skip_dirs=(), cap=None):
        self.count = 0
        self.cap = LINE_CAP if cap is None else cap
        self._skip = tuple(os.path.abspath(d) for d in (_ENGINE_DIR, *skip_dirs))
        self._open = 0        # traced frames entered and not yet returned
        self._capped = False

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename.startswith(self._skip):
            return None
        self._open += 1
        return self._local

    def _local(self, frame, event, arg):
        if event == "line":
            self.count += 1
            if self.count >= self.cap:
                self._capped = True
                _settrace(None)  # the rest of the call runs untraced, at full speed
                return None
        elif event == "return":
            self._open -= 1
            if not frame.f_trace_lines:
                tampered("a frame turned off its line events (f_trace_lines = False) during a call "
                         "measured by line_count: its lines were not counted")
        return self._local

    def __enter__(self):
        self._old = sys.gettrace()
        self._threads = _Threads.started
        _active.append(self)
        _settrace(self._global)
        return self

    def __exit__(self, *exc):
        _settrace(self._old)
        _active.remove(self)
        if self._open > 0 and not self._capped:
            tampered("a frame stopped being traced (frame.f_trace cleared) during a call measured by "
                     "line_count: its lines were not counted")
        if _Threads.started != self._threads:
            tampered("the attempt started a thread during a call measured by line_count, which "
                     "counts only the calling thread")

    def result(self):
        return self.count


def _settrace(fn):
    global _own_settrace
    _own_settrace = True
    try:
        sys.settrace(fn)
    finally:
        _own_settrace = False


# ---- tensors --------------------------------------------------------------------------------
class TensorSizes:
    """Every tensor an operator creates during the call: the largest numel, and the ops seen.

    Uses a TorchDispatchMode, so it sees tensors created in C++ kernels too, not only Python ones;
    an attempt's own TorchDispatchMode does not hide anything from it (torch pops a mode while its
    handler runs, so the handler's ops reach this one). Detected and failed: popping this mode
    (torch.utils._python_dispatch._disable_current_modes, torch._C._pop_torch_dispatch_stack),
    torch._C._DisableTorchDispatch, an _ExcludeDispatchKeyGuard on the Python key, a thread
    started during the call (modes are per thread).

    Cannot see: memory outside torch's dispatcher (numpy arrays, Python lists, torch.from_numpy
    wraps existing memory without an op), kernels called below the dispatcher (OpOverload._op_dk,
    redispatch). It measures the discipline of tensor sizes; peak_memory measures the bytes.
    """

    def __enter__(self):
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode

        probe = self
        probe.max_numel = 0
        probe.max_op = None
        probe.ops = set()

        class _Mode(TorchDispatchMode):
            @classmethod
            def _should_skip_dynamo(cls):
                # Otherwise torch wraps the mode for dynamo, whose first use imports torch._dynamo
                # (3-4 s): this probe only records, it never compiles.
                return False

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                name = str(func.overloadpacket.__name__)
                probe.ops.add(name)
                # aten ops return a tensor or a flat tuple/list of them (a pytree walk costs
                # more than the small ops it watches)
                for t in (out if isinstance(out, (tuple, list)) else (out,)):
                    if isinstance(t, torch.Tensor) and t.numel() > probe.max_numel:
                        probe.max_numel = t.numel()
                        probe.max_op = name
                return out

        _watch_torch()
        self._threads = _Threads.started
        self._mode = _Mode()
        self._closing = False
        self._mode.__enter__()
        self._depth = torch._C._len_torch_dispatch_stack()
        _active.append(self)
        return self

    def __exit__(self, *exc):
        import torch
        _active.remove(self)
        n = torch._C._len_torch_dispatch_stack()
        if n < self._depth or torch._C._get_dispatch_stack_at(self._depth - 1) is not self._mode:
            tampered(_MODE_POPPED)
            return  # the mode is gone from the stack already: nothing to exit
        self._closing = True
        self._mode.__exit__(*exc)
        if _Threads.started != self._threads:
            tampered("the attempt started a thread during a call measured by tensor_sizes, which "
                     "sees only the calling thread's operators")

    def result(self):
        return {"max_numel": self.max_numel, "max_op": self.max_op, "ops": sorted(self.ops)}


_MODE_POPPED = ("the attempt removed the checker's torch dispatch mode during a measured call "
                "(tensor_sizes could not see its operators)")
_DISPATCH_OFF = ("the attempt switched off torch's Python dispatch during a measured call "
                 "(tensor_sizes could not see its operators)")


# ---- calls ----------------------------------------------------------------------------------
class CallCounter:
    """Wraps a callable and counts its calls (e.g. an oracle handed to the attempt).

    Cannot see: calls to another copy of the function the attempt obtained some other way.
    """

    def __init__(self, fn):
        self.fn = fn
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


PROBES = {
    "peak_memory": PeakMemory,
    "python_peak_memory": PythonPeakMemory,
    "line_count": LineCount,
    "tensor_sizes": TensorSizes,
}


# ---- detections (armed by install) ----------------------------------------------------------


class _Threads:
    started = 0


def _tracemalloc_wrapper(original, name):
    def guarded(*args, **kwargs):
        if _Traced.users and name in ("stop", "clear_traces", "reset_peak"):
            tampered(f"tracemalloc.{name}() was called during a measured call: the memory probe "
                     "relies on tracemalloc (a measured call may not control it)")
            return None   # refused: the measurement goes on
        return original(*args, **kwargs)
    return guarded


def _thread_wrapper(original, name):
    def start(*args, **kwargs):
        _Threads.started += 1
        return original(*args, **kwargs)
    return start


def _audit(event, args):
    if event == "sys.settrace" and not _own_settrace and _active_of(LineCount):
        tampered("sys.settrace was called during a call measured by line_count (a measured call "
                 "may not install or remove a tracer)")
        raise RuntimeError("sys.settrace is not available during a measured call")


_torch_watched = False


def _watch_torch():
    """Wrap torch's switches for dispatch modes (once torch is loaded)."""
    global _torch_watched
    if _torch_watched or "torch" not in sys.modules:
        return
    _torch_watched = True
    import torch
    from checker.guard import _replace_everywhere

    def pop_wrapper(original, name):
        def pop(*args, **kwargs):
            mode = original(*args, **kwargs)
            for p in _active_of(TensorSizes):
                if mode is p._mode and not p._closing:
                    tampered(_MODE_POPPED)
            return mode
        return pop

    def switch_wrapper(original, name):
        def switch(*args, **kwargs):
            if _active_of(TensorSizes) and (name != "_ExcludeDispatchKeyGuard" or _has_python_key(args)):
                tampered(_DISPATCH_OFF)
            return original(*args, **kwargs)
        return switch

    _replace_everywhere({id(torch._C._pop_torch_dispatch_stack):
                         (torch._C._pop_torch_dispatch_stack, "_pop_torch_dispatch_stack")}, pop_wrapper)
    switches = {}
    for name in ("_DisableTorchDispatch", "_ExcludeDispatchKeyGuard"):
        obj = getattr(torch._C, name, None)
        if obj is not None:
            switches[id(obj)] = (obj, name)
    _replace_everywhere(switches, switch_wrapper)


def _has_python_key(args):
    import torch
    keys = [a for a in args if isinstance(a, torch._C.DispatchKeySet)]
    return any(ks.has(torch._C.DispatchKey.Python) or ks.has(torch._C.DispatchKey.PythonTLSSnapshot)
               for ks in keys)


_installed = False


def install():
    """Arm the detections (worker only, before the attempt is imported)."""
    global _installed
    if _installed:
        return
    _installed = True
    import _thread

    from checker.guard import _replace_everywhere
    _Proc.open()
    sys.addaudithook(_audit)
    targets = {id(fn): (fn, name) for name, fn in _TRACEMALLOC.items()}
    import _tracemalloc
    for name in ("start", "stop", "reset_peak", "clear_traces"):
        fn = getattr(_tracemalloc, name, None)
        if fn is not None:
            targets.setdefault(id(fn), (fn, name))
    _replace_everywhere(targets, _tracemalloc_wrapper)
    starts = {id(_thread.start_new_thread): (_thread.start_new_thread, "start_new_thread")}
    _replace_everywhere(starts, _thread_wrapper)  # also threading's own reference
    _watch_torch()
