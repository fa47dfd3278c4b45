"""Worker-side glue for coupling: builds masks, nets and layers from plain recipes, runs the
attempt's classes, returns tensors. It measures only; the suite judges.

The suite imports `build_nets` / `build_layer` too, so the reference in the checker is built from
the same recipe with the same weights as the attempt in the worker.

A layer recipe: {"kind": "additive" | "affine", "mask": [0/1, ...], "bool_mask": bool,
                 "nets": [{"seed", "hidden", "depth", "act", "init_scale", "squash"}, ...]}
"""
import torch

from katas._shared.torch_builders import dtype_of, seeded_mlp

# Every tensor here is tiny (D <= 6, batch <= 5): thread hand-offs cost more than the math, and on
# a busy 2-core machine they make each op several times slower. The worker is this kata's alone.
torch.set_num_threads(1)


def build_net(n, d, dtype):
    net = seeded_mlp(n["seed"], d, d, hidden=n["hidden"], depth=n["depth"], act=n["act"],
                     dtype=dtype, init_scale=n["init_scale"])
    # "squash": a final tanh, as RealNVP uses on its scale nets, so |s| <= 1 and a deep flow
    # cannot grow values by e^(many) (which would leave float32 no correct digits to compare).
    return torch.nn.Sequential(net, torch.nn.Tanh()) if n.get("squash") else net


def build_nets(spec, dtype):
    return [build_net(n, len(spec["mask"]), dtype) for n in spec["nets"]]


def build_mask(spec, dtype):
    if spec["bool_mask"]:
        return torch.tensor([bool(v) for v in spec["mask"]])
    return torch.tensor([float(v) for v in spec["mask"]], dtype=dtype_of(dtype))


def build_layer(module, spec, dtype):
    """A layer of `module` (attempt or reference) and the nets it got, in recipe order."""
    nets = build_nets(spec, dtype)
    mask = build_mask(spec, dtype)
    if spec["kind"] == "additive":
        return module.AdditiveCoupling(mask, nets[0]), nets
    return module.AffineCoupling(mask, nets[0], nets[1]), nets


def build_flow(module, specs, dtype):
    built = [build_layer(module, s, dtype) for s in specs]
    return module.Flow([layer for layer, _ in built]), [n for _, nets in built for n in nets]


def _pair(out, what):
    """Unpack (tensor, logdet) with a message the learner can act on."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{what} must return a tuple (tensor, logdet), got {type(out).__name__}")
    return tuple(_plain(v) for v in out)


def _plain(v):
    return v.detach() if isinstance(v, torch.Tensor) else v


def _both_ways(model, x, y, what):
    """forward(x), inverse(forward(x)) and inverse(y) of a layer or a flow, `what` naming it in
    errors ("" or "Flow."). No graph: values only."""
    with torch.no_grad():
        fy, fld = _pair(model.forward(x.clone()), f"{what}forward")
        back = _pair(model.inverse(fy.clone()), f"{what}inverse") if isinstance(fy, torch.Tensor) else None
        ix, ild = _pair(model.inverse(y.clone()), f"{what}inverse")
    return {"fwd": (fy, fld), "back": back, "inv": (ix, ild)}


def layer_roundtrip(attempt, spec, dtype, x, y):
    """forward(x), inverse(forward(x)), inverse(y), forward(inverse(y)) of one layer."""
    layer, _ = build_layer(attempt, spec, dtype)
    out = _both_ways(layer, x, y, "")
    ix = out["inv"][0]
    with torch.no_grad():
        out["again"] = _pair(layer.forward(ix.clone()), "forward") if isinstance(ix, torch.Tensor) else None
    return out


def _jacobian(fn, x):
    """Per-row autograd Jacobians of a (B, D) -> (B, D) map, shape (B, D, D), or None when the
    output is not attached to the autograd graph. Rows are transformed independently (nothing in a
    coupling layer mixes rows), so one backward pass per output dim, summed over the batch, gives
    every row's block at once: D passes instead of B * D."""
    x = x.detach().clone().requires_grad_(True)
    y = fn(x)
    if not isinstance(y, torch.Tensor) or not y.requires_grad or y.dim() != 2:
        return None
    rows = []
    for j in range(y.shape[1]):
        (g,) = torch.autograd.grad(y[:, j].sum(), x, retain_graph=True, allow_unused=True)
        rows.append(torch.zeros_like(x) if g is None else g)
    return torch.stack(rows, dim=1).detach()


def _jacobians(model, x, what):
    """Float64: forward and inverse outputs, logdets and autograd Jacobians of a layer or a flow."""
    y, ld = _pair(model.forward(x.clone()), f"{what}forward")
    j = _jacobian(lambda t: model.forward(t)[0], x.clone())
    xb, ild = _pair(model.inverse(y.clone()), f"{what}inverse")
    ji = _jacobian(lambda t: model.inverse(t)[0], y.clone())
    return {"y": y, "ld": ld, "J": j, "x_back": xb, "ld_inv": ild, "J_inv": ji}


def layer_jacobian(attempt, spec, x):
    return _jacobians(build_layer(attempt, spec, "float64")[0], x, "")


def flow_run(attempt, specs, dtype, x, z):
    """Flow forward(x), inverse(forward(x)), inverse(z), log_prob(x)."""
    flow, _ = build_flow(attempt, specs, dtype)
    out = _both_ways(flow, x, z, "Flow.")
    with torch.no_grad():
        out["log_prob"] = _plain(flow.log_prob(x.clone()))
    return out


def flow_jacobian(attempt, specs, x):
    return _jacobians(build_flow(attempt, specs, "float64")[0], x, "Flow.")


def flow_grad(attempt, specs, dtype, x):
    """log_prob(x).sum() backpropagated: gradient for x and for every net parameter (recipe
    order; None where no gradient arrived), and how many net parameters Flow.parameters() holds."""
    flow, nets = build_flow(attempt, specs, dtype)
    x = x.clone().requires_grad_(True)
    lp = flow.log_prob(x)
    if not isinstance(lp, torch.Tensor) or not lp.requires_grad:
        return {"log_prob": _plain(lp), "x_grad": None, "param_grads": [], "registered": 0,
                "n_params": 0, "graph": False}
    lp.sum().backward()
    params = [p for net in nets for p in net.parameters()]
    own = {id(p) for p in flow.parameters()}
    return {"log_prob": lp.detach(), "x_grad": None if x.grad is None else x.grad.detach(),
            "param_grads": [None if p.grad is None else p.grad.detach() for p in params],
            "registered": sum(id(p) in own for p in params), "n_params": len(params),
            "graph": True}


def flow_sample(attempt, specs, dtype, n, dim, seed):
    """sample(n, dim, generator) with a generator seeded `seed`, and sample(n, dim) without one."""
    flow, _ = build_flow(attempt, specs, dtype)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        drawn = _plain(flow.sample(n, dim, generator=g))
        free = _plain(flow.sample(n, dim))
    return {"sample": drawn, "free_shape": tuple(free.shape) if isinstance(free, torch.Tensor) else None}
