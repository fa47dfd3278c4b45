"""Worker-side measurements of an attempt's call: memory, work, tensors, calls.

These run in the worker because only there can they see the attempt run (see guard.py for the
trust boundary: a probe reports, the checker judges). Each probe is a context manager with a
`result()` that returns plain data. A suite asks for probes by name through `Context.invoke`;
a kata harness may use the classes directly.
"""
from __future__ import annotations

import os
import sys
import tracemalloc

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
LINE_CAP = 2_000_000


class PythonPeakMemory:
    """Peak bytes allocated through Python's allocator during the call, above the start level."""

    def __enter__(self):
        self._was = tracemalloc.is_tracing()
        if not self._was:
            tracemalloc.start()
        tracemalloc.reset_peak()
        self._base = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc):
        self.peak = max(0, tracemalloc.get_traced_memory()[1] - self._base)
        if not self._was:
            tracemalloc.stop()

    def result(self):
        return self.peak


class LineCount:
    """Python lines executed during the call, outside the engine: a deterministic work count.

    Unlike wall time it does not depend on machine load. It does not see work done in C (a
    builtin's loop), so pair it with a time comparison where that matters. Counting stops at
    LINE_CAP lines (the result is then exactly LINE_CAP, read "at least"): a traced line costs
    ~0.4 µs, so an uncapped quadratic attempt would spend the call's time limit being counted
    and the verdict would depend on machine load instead of on the count.
    """

    def __init__(self, skip_dirs=(), cap=None):
        self.count = 0
        self.cap = LINE_CAP if cap is None else cap
        self._skip = tuple(os.path.abspath(d) for d in (_ENGINE_DIR, *skip_dirs))

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename.startswith(self._skip):
            return None
        return self._local

    def _local(self, frame, event, arg):
        if event == "line":
            self.count += 1
            if self.count >= self.cap:
                sys.settrace(None)  # the rest of the call runs untraced, at full speed
                return None
        return self._local

    def __enter__(self):
        self._old = sys.gettrace()
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc):
        sys.settrace(self._old)

    def result(self):
        return self.count


class TensorSizes:
    """Every tensor an operator creates during the call: the largest numel, and the ops seen.

    Uses a TorchDispatchMode, so it sees tensors created in C++ kernels too, not only Python ones.
    """

    def __enter__(self):
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils._pytree import tree_flatten

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
                for t in tree_flatten(out)[0]:
                    if isinstance(t, torch.Tensor) and t.numel() > probe.max_numel:
                        probe.max_numel = t.numel()
                        probe.max_op = name
                return out

        self._mode = _Mode()
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        self._mode.__exit__(*exc)

    def result(self):
        return {"max_numel": self.max_numel, "max_op": self.max_op, "ops": sorted(self.ops)}


class CallCounter:
    """Wraps a callable and counts its calls (e.g. an oracle handed to the attempt)."""

    def __init__(self, fn):
        self.fn = fn
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


PROBES = {
    "python_peak_memory": PythonPeakMemory,
    "line_count": LineCount,
    "tensor_sizes": TensorSizes,
}
