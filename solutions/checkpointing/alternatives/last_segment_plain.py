"""torch.utils.checkpoint_sequential's layout: equal floor-sized segments, the remainder and the
last segment run plainly (backward needs them first anyway); closures instead of classes.

Each checkpointed segment is a Function created for it, with the segment's parameters as
explicit inputs (so they get gradients when x needs none); RNG replay through fork_rng.
"""
import torch


def _segment_function(layers):
    params = [p for f in layers if isinstance(f, torch.nn.Module) for p in f.parameters()]

    def run(x):
        for f in layers:
            x = f(x)
        return x

    class Seg(torch.autograd.Function):
        # The CPU RNG state comes in as a tensor input and is saved with x (no other ctx state).
        @staticmethod
        def forward(ctx, rng, x, *ps):
            ctx.save_for_backward(rng, x)
            with torch.no_grad():
                return run(x)

        @staticmethod
        def backward(ctx, g):
            rng, x = ctx.saved_tensors
            needs = ctx.needs_input_grad[1:]
            with torch.random.fork_rng(devices=[]):
                torch.set_rng_state(rng)
                with torch.enable_grad():
                    xi = x.detach().requires_grad_(needs[0])
                    y = run(xi)
            want = [t for t, need in zip([xi] + params, needs) if need]
            if y.requires_grad:
                got = list(torch.autograd.grad(y, want, g, allow_unused=True))
            else:
                got = [None] * len(want)
            return (None,) + tuple(got.pop(0) if need else None for need in needs)

    return lambda x: Seg.apply(torch.get_rng_state(), x, *params)


def checkpoint_sequential(layers, segments, x):
    if segments < 1:
        raise ValueError("segments must be >= 1")
    layers = list(layers)
    segments = min(segments, len(layers))
    size = len(layers) // segments
    for start in range(0, size * (segments - 1), size):
        x = _segment_function(layers[start:start + size])(x)
    for f in layers[size * (segments - 1):]:
        x = f(x)
    return x
