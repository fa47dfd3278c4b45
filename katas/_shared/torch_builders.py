"""Deterministic torch inputs and modules built from a seed.

The checker and the worker each build the *same* tensor or module from the same plain-data
recipe (shape, dtype, seed), so a suite can send a small recipe instead of weights, and the
reference in the checker sees exactly what the attempt sees in the worker. Hypothesis draws the
recipe (shapes, seeds, scales); torch fills the values, which is far faster than drawing floats
one by one and still shrinks well (to small shapes and seed 0).
"""
from __future__ import annotations

import torch
from hypothesis import strategies as st

DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
          "bfloat16": torch.bfloat16}


def dtype_of(name: str) -> torch.dtype:
    return DTYPES[name]


def seeded_tensor(shape, dtype="float32", seed=0, scale=1.0, requires_grad=False) -> torch.Tensor:
    """Normal(0, scale²) values from a private generator: same recipe, same tensor, anywhere."""
    g = torch.Generator().manual_seed(int(seed))
    t = (torch.randn(tuple(shape), generator=g, dtype=torch.float64) * scale).to(dtype_of(dtype))
    return t.requires_grad_(requires_grad)


def seeded_mlp(seed, d_in, d_out, hidden=16, depth=2, act="tanh", dtype="float64",
               init_scale=1.0) -> torch.nn.Sequential:
    """An MLP with weights from `seed` (depth linear layers with `act` between them)."""
    acts = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid,
            "gelu": torch.nn.GELU, "softplus": torch.nn.Softplus}
    g = torch.Generator().manual_seed(int(seed))
    dims = [d_in] + [hidden] * (depth - 1) + [d_out]
    layers = []
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        lin = torch.nn.Linear(a, b, dtype=dtype_of(dtype))
        with torch.no_grad():
            bound = init_scale / a ** 0.5
            lin.weight.copy_((torch.rand(b, a, generator=g, dtype=torch.float64) * 2 - 1) * bound)
            lin.bias.copy_((torch.rand(b, generator=g, dtype=torch.float64) * 2 - 1) * bound)
        layers.append(lin)
        if i < len(dims) - 2:
            layers.append(acts[act]())
    return torch.nn.Sequential(*layers)


def seeds():
    return st.integers(0, 2**31 - 1)


def shapes(min_rank=1, max_rank=3, min_side=1, max_side=8):
    return st.lists(st.integers(min_side, max_side), min_size=min_rank, max_size=max_rank).map(tuple)
