"""Mixture-of-experts routing. Read the task with `kata show moe_routing`."""
import math

import torch


def route(logits: torch.Tensor, k: int, *, scoring: str = "softmax", normalize: bool = False,
          bias: torch.Tensor | None = None):
    """logits (T, E) -> (weights (T, k) in logits' dtype, experts (T, k) int64).
    Scores s = softmax over all E ("softmax") or sigmoid ("sigmoid"); the k largest s + bias,
    descending, ties lower index first; weights are the unbiased s, divided by their sum if
    normalize. ValueError unless 1 <= k <= E and scoring is known."""
    raise NotImplementedError("route: write your solution here")


def capacity_keep(experts: torch.Tensor, num_experts: int, capacity: int) -> torch.Tensor:
    """(T, k) bool: GShard priority (every token's choice 0 in token order, then choice 1, ...);
    an expert keeps assignments until it holds `capacity`. ValueError if capacity < 0."""
    raise NotImplementedError("capacity_keep: write your solution here")


def dispatch(x: torch.Tensor, experts: torch.Tensor, keep: torch.Tensor, num_experts: int):
    """Kept assignments grouped by expert (ascending), inside an expert by choice then token:
    (x_grouped (N, d), counts (E,) int64, source (N,) int64 flat ids t*k + j)."""
    raise NotImplementedError("dispatch: write your solution here")


def combine(y_grouped: torch.Tensor, source: torch.Tensor, weights: torch.Tensor, T: int) -> torch.Tensor:
    """(T, d): y[t] = sum of weights[t, j] * y_grouped[r] over rows r with source[r] = t*k + j."""
    raise NotImplementedError("combine: write your solution here")


def load_balancing_loss(logits: torch.Tensor, experts: torch.Tensor, num_experts: int) -> torch.Tensor:
    """E * sum_i f_i * P_i: f_i the fraction of the T*k assignments to expert i, P_i the mean
    softmax probability of i. 0-dim, differentiable w.r.t. logits."""
    raise NotImplementedError("load_balancing_loss: write your solution here")


def moe_layer(x: torch.Tensor, router_weight: torch.Tensor, experts, k: int, *,
              capacity_factor: float | None = None, scoring: str = "softmax",
              normalize: bool = False) -> torch.Tensor:
    """x (T, d), router_weight (E, d), experts: E callables (n, d) -> (n, d). Route x @ W.T,
    cap each expert at ceil(capacity_factor * T * k / E) (None: drop nothing), call each expert
    at most once on its kept tokens, combine with the weights. Returns (T, d)."""
    raise NotImplementedError("moe_layer: write your solution here")
