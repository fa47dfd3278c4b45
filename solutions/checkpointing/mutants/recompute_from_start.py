import torch


class _Segment(torch.autograd.Function):
    @staticmethod
    def forward(ctx, layers, lo, hi, rng, x0, x, *params):
        ctx.layers, ctx.lo, ctx.hi, ctx.rng = layers, lo, hi, rng
        ctx.save_for_backward(x0)
        ctx.params = params
        with torch.no_grad():
            for f in layers[lo:hi]:
                x = f(x)
        return x

    @staticmethod
    def backward(ctx, grad_out):
        (x0,) = ctx.saved_tensors
        needs = ctx.needs_input_grad[5:]
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(ctx.rng)
            with torch.no_grad():
                h = x0
                for f in ctx.layers[:ctx.lo]:   # rebuild the segment input from the start
                    h = f(h)
            with torch.enable_grad():
                x_in = h.detach().requires_grad_(needs[0])
                out = x_in
                for f in ctx.layers[ctx.lo:ctx.hi]:
                    out = f(out)
        wrt = [t for t, need in zip((x_in, *ctx.params), needs) if need]
        grads = iter(torch.autograd.grad(out, wrt, grad_out, allow_unused=True))
        return (None,) * 5 + (None,) + tuple(next(grads) if need else None for need in needs[1:]) \
            if not needs[0] else (None,) * 5 + tuple(next(grads) if need else None for need in needs)


def checkpoint_sequential(layers, segments, x):
    if segments < 1:
        raise ValueError("segments must be >= 1")
    layers = list(layers)
    n = len(layers)
    segments = min(segments, n)
    bounds = [i * n // segments for i in range(segments + 1)]
    rng = torch.get_rng_state()
    x0 = x.detach()
    for lo, hi in zip(bounds, bounds[1:]):
        params = [p for f in layers[lo:hi] if isinstance(f, torch.nn.Module) for p in f.parameters()]
        x = _Segment.apply(layers, lo, hi, rng, x0, x, *params)
    return x
