"""Reentrant style of the original torch.utils.checkpoint: autograd.backward inside backward.

A Function per segment takes only x (plus a dummy tensor that requires grad, when x does not,
so the Function stays in the graph). Its backward re-runs the segment with grad and calls
torch.autograd.backward on it, which accumulates the parameters' .grad directly; x's gradient is
returned. RNG state is saved and restored by hand.
"""
import torch


class _Checkpoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, layers, dummy, x):
        ctx.layers = layers
        ctx.rng = torch.get_rng_state()
        ctx.save_for_backward(x)
        with torch.no_grad():
            for f in layers:
                x = f(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        outer = torch.get_rng_state()
        torch.set_rng_state(ctx.rng)
        try:
            with torch.enable_grad():
                y = x.detach().requires_grad_(ctx.needs_input_grad[2])
                x_in = y
                for f in ctx.layers:
                    y = f(y)
        finally:
            torch.set_rng_state(outer)
        if y.requires_grad:
            torch.autograd.backward(y, grad)
        return None, None, x_in.grad if ctx.needs_input_grad[2] else None


def _trainable(layers):
    return any(p.requires_grad for f in layers if isinstance(f, torch.nn.Module) for p in f.parameters())


def checkpoint_sequential(layers, segments, x):
    if segments < 1:
        raise ValueError("segments must be at least 1")
    n = len(layers)
    segments = min(segments, n)
    cuts = [round(i * n / segments) for i in range(segments + 1)]
    for a, b in zip(cuts, cuts[1:]):
        part = list(layers[a:b])
        need = _trainable(part) and not x.requires_grad
        dummy = torch.empty(0, requires_grad=need)
        x = _Checkpoint.apply(part, dummy, x)
    return x
