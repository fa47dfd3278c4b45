"""A single autograd.Function for the whole stack: its backward walks the segments in reverse."""
import math
import torch


def _parameters(layers):
    params = []
    for layer in layers:
        for p in (layer.parameters() if hasattr(layer, "parameters") else []):
            if p.requires_grad and all(p is not q for q in params):
                params.append(p)
    return params


class _Checkpointed(torch.autograd.Function):
    @staticmethod
    def forward(ctx, groups, x, *params):
        ctx.groups = groups
        ctx.inputs, ctx.states = [], []
        h = x
        with torch.no_grad():
            for g in groups:
                ctx.inputs.append(h)
                ctx.states.append(torch.get_rng_state())
                for layer in g:
                    h = layer(h)
        ctx.n_params = len(params)
        ctx.params = params
        return h

    @staticmethod
    def backward(ctx, grad):
        params = ctx.params
        acc = [None] * len(params)
        outer = torch.get_rng_state()
        for g, h_in, state in reversed(list(zip(ctx.groups, ctx.inputs, ctx.states))):
            torch.set_rng_state(state)
            with torch.enable_grad():
                h = h_in.detach().requires_grad_()
                out = h
                for layer in g:
                    out = layer(out)
            mine = [i for i, p in enumerate(params) if any(p is q for q in _parameters(g))]
            got = torch.autograd.grad(out, [h] + [params[i] for i in mine], grad, allow_unused=True)
            grad = got[0]
            for i, gp in zip(mine, got[1:]):
                if gp is not None:
                    acc[i] = gp if acc[i] is None else acc[i] + gp
            del out, h, got
        torch.set_rng_state(outer)
        ctx.inputs = None
        return (None, grad) + tuple(acc)


def checkpoint_sequential(layers, segments, x):
    if segments < 1:
        raise ValueError(f"segments={segments} must be at least 1")
    layers = list(layers)
    per = math.ceil(len(layers) / segments)   # at most `segments` groups of `per` layers
    groups = [layers[i:i + per] for i in range(0, len(layers), per)]
    return _Checkpointed.apply(groups, x, *_parameters(layers))
