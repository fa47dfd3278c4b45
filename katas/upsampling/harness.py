"""Worker-side glue for upsampling: call the attempt under an operator recorder.

It reports which operators the call ran that are torch's own upsampling / transposed-convolution
kernels (whichever way they were reached: F.interpolate, torch.ops.aten.*, torch._C._nn.*,
autograd's convolution_backward), whether the recorder was still installed when the call
returned, and the readings of any checker.probes asked for. It measures and reports; the suite
judges.
"""
from __future__ import annotations

import torch
from torch._ops import OpOverload, OpOverloadPacket
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode

from checker.probes import PROBES

# Small tensors and many small ops: intra-op threads only contend on a busy 2-core machine.
torch.set_num_threads(1)

# Operator names (overload packets) that compute what the kata asks to write by hand.
_KERNELS = ("upsample", "pixel_shuffle", "pixel_unshuffle", "grid_sampler", "affine_grid",
            "conv_transpose", "convolution_backward", "_convolution_double_backward")


def _is_kernel(name, args, kwargs):
    if any(k in name for k in _KERNELS):
        return True
    # aten.convolution / aten._convolution(input, weight, bias, stride, padding, dilation,
    # transposed, ...): an ordinary convolution is allowed, a transposed one is not.
    if name not in ("convolution", "_convolution"):
        return False
    return bool(kwargs["transposed"] if "transposed" in kwargs else len(args) > 6 and args[6])


# torch.ops.aten.X(...) called with Python dispatch switched off (torch._C._DisableTorchDispatch)
# never reaches the recorder below, but it still goes through these two Python methods.
_direct: set[str] = set()


def _noting(call):
    def __call__(self, /, *args, **kwargs):
        name = (getattr(self, "_qualified_op_name", None) or self._overloadpacket._qualified_op_name)
        name = name.split("::")[-1]
        if _is_kernel(name, args, kwargs):
            _direct.add(f"aten.{name}")
        return call(self, *args, **kwargs)
    return __call__


OpOverloadPacket.__call__ = _noting(OpOverloadPacket.__call__)
OpOverload.__call__ = _noting(OpOverload.__call__)


class _Recorder(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls):
        return False  # otherwise the first use imports torch._dynamo (seconds); nothing compiles here

    def __init__(self):
        super().__init__()
        self.kernels = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = str(func.overloadpacket.__name__)
        if _is_kernel(name, args, kwargs):
            self.kernels.add(f"aten.{name}")
        return func(*args, **kwargs)


def watched(attempt, fn, *args, probes=(), **kwargs):
    """attempt.fn(*args, **kwargs) under the recorder and the named checker.probes:
    {"value", "kernels", "intact", "probes": {name: reading}}. intact: the recorder was still the
    innermost dispatch mode when the call returned (an attempt that pops it is not measured)."""
    meters = [PROBES[name]() for name in probes]
    _direct.clear()
    mode = _Recorder()
    with mode:
        for m in meters:
            m.__enter__()
        try:
            value = getattr(attempt, fn)(*args, **kwargs)
        finally:
            for m in reversed(meters):
                m.__exit__(None, None, None)
        intact = _get_current_dispatch_mode() is mode
    return {"value": value, "kernels": sorted(mode.kernels | _direct), "intact": intact,
            "probes": {name: m.result() for name, m in zip(probes, meters)}}
