"""Recomputes each segment without restoring the RNG state: dropout draws a new mask in backward."""
import torch


class _Segment(torch.autograd.Function):
    @staticmethod
    def forward(ctx, run, x, *params):
        ctx.run = run
        ctx.save_for_backward(x)
        with torch.no_grad():
            return run(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        needs = ctx.needs_input_grad[1:]
        with torch.enable_grad():
            x_in = x.detach().requires_grad_(needs[0])
            out = ctx.run(x_in)
        wrt = [t for t, need in zip((x_in, *ctx.run.params), needs) if need]
        grads = iter(torch.autograd.grad(out, wrt, grad_out, allow_unused=True))
        return (None,) + tuple(next(grads) if need else None for need in needs)


class _Run:
    def __init__(self, layers):
        self.layers = layers
        self.params = [p for f in layers if isinstance(f, torch.nn.Module) for p in f.parameters()]

    def __call__(self, x):
        for f in self.layers:
            x = f(x)
        return x


def checkpoint_sequential(layers, segments, x):
    if segments < 1:
        raise ValueError("segments must be >= 1")
    n = len(layers)
    segments = min(segments, n)
    bounds = [i * n // segments for i in range(segments + 1)]
    for lo, hi in zip(bounds, bounds[1:]):
        run = _Run(layers[lo:hi])
        x = _Segment.apply(run, x, *run.params)
    return x
