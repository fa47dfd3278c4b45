"""Ignores `segments` and checkpoints every layer: it keeps every layer's input, as much as a plain run."""
import torch


class _Segment(torch.autograd.Function):
    @staticmethod
    def forward(ctx, run, n_params, x, *params):
        ctx.run = run
        ctx.rng_state = torch.get_rng_state()
        ctx.save_for_backward(x)
        with torch.no_grad():
            return run(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        params = ctx.run.params
        needs = ctx.needs_input_grad[2:]
        # Replay the forward's random numbers (dropout), then put the caller's RNG back.
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(ctx.rng_state)
            with torch.enable_grad():
                x_in = x.detach().requires_grad_(needs[0])
                out = ctx.run(x_in)
        wrt = [t for t, need in zip((x_in, *params), needs) if need]
        grads = iter(torch.autograd.grad(out, wrt, grad_out, allow_unused=True) if out.requires_grad
                     else [None] * len(wrt))
        return (None, None) + tuple(next(grads) if need else None for need in needs)


class _Run:
    """Applies layers[lo:hi] in order; knows their parameters."""

    def __init__(self, layers):
        self.layers = layers
        self.params = [p for f in layers if isinstance(f, torch.nn.Module) for p in f.parameters()]

    def __call__(self, x):
        for f in self.layers:
            x = f(x)
        return x


def checkpoint_sequential(layers, segments, x):
    if segments < 1:
        raise ValueError(f"segments must be at least 1, got {segments}")
    layers = list(layers)
    n = len(layers)
    segments = n
    # Sizes differ by at most one: segment i covers [i*n//segments, (i+1)*n//segments).
    bounds = [i * n // segments for i in range(segments + 1)]
    for lo, hi in zip(bounds, bounds[1:]):
        run = _Run(layers[lo:hi])
        x = _Segment.apply(run, len(run.params), x, *run.params)
    return x
