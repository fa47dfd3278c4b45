"""Worker-side glue for flash_attention: call the attempt and record every tensor an op creates.

It measures and reports (largest tensor made, by which op, every op name); the suite judges.
"""
from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# The attempt runs many small tile ops. On a busy 2-core machine, intra-op OpenMP threads spin
# and wait on each other and make each op ~20x slower; one thread is also what the benchmark and
# a learner's laptop see per op at these sizes.
torch.set_num_threads(1)


class _Sizes(TorchDispatchMode):
    """checker.probes.TensorSizes, without its one-off cost: a TorchDispatchMode subclass by
    default wraps __torch_dispatch__ in torch._disable_dynamo, whose first call imports
    torch._dynamo (2–4 s here). Nothing is compiled inside this mode, so that wrapper is not
    needed."""

    @classmethod
    def _should_skip_dynamo(cls):
        return False

    def __init__(self):
        super().__init__()
        self.max_numel, self.max_op, self.ops = 0, None, set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = str(func.overloadpacket.__name__)
        self.ops.add(name)
        for t in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(t, torch.Tensor) and t.numel() > self.max_numel:
                self.max_numel, self.max_op = t.numel(), name
        return out

    def result(self):
        return {"max_numel": self.max_numel, "max_op": self.max_op, "ops": sorted(self.ops)}


def with_sizes(attempt, fn, *args, **kwargs):
    """attempt.fn(*args, **kwargs) under the size recorder: {"value": ..., "sizes": {...}}."""
    mode = _Sizes()
    with mode:
        value = getattr(attempt, fn)(*args, **kwargs)
    return {"value": value, "sizes": mode.result()}
