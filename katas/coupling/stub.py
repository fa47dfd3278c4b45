"""Coupling layers and a normalizing flow. Read the task with `kata show coupling`."""
import math

import torch
from torch import nn


class AdditiveCoupling(nn.Module):
    """NICE additive coupling: y = x + (1 - mask) * net(mask * x), logdet = 0."""

    def __init__(self, mask, net):
        """mask: length-D bool or 0./1. float tensor, 1 = conditioning (passed through).
        net: an nn.Module mapping (batch, D) -> (batch, D)."""
        super().__init__()
        raise NotImplementedError("AdditiveCoupling: write your solution here")

    def forward(self, x):
        """x: (batch, D). Return (y, logdet) with logdet of shape (batch,)."""
        raise NotImplementedError

    def inverse(self, y):
        """Return (x, logdet of the inverse map), logdet of shape (batch,)."""
        raise NotImplementedError


class AffineCoupling(nn.Module):
    """RealNVP affine coupling: on the mask = 0 dims y = x * exp(s) + t, with
    s = scale_net(mask * x), t = shift_net(mask * x); logdet = sum of s over those dims."""

    def __init__(self, mask, scale_net, shift_net):
        super().__init__()
        raise NotImplementedError("AffineCoupling: write your solution here")

    def forward(self, x):
        """x: (batch, D). Return (y, logdet), logdet of shape (batch,)."""
        raise NotImplementedError

    def inverse(self, y):
        """Return (x, logdet of the inverse map) = (x, -forward logdet at x)."""
        raise NotImplementedError


class Flow(nn.Module):
    """A chain of coupling layers with a standard normal base distribution."""

    def __init__(self, layers):
        """layers: a list of coupling layers. Register them so parameters() sees every net."""
        super().__init__()
        raise NotImplementedError("Flow: write your solution here")

    def forward(self, x):
        """Run the layers in order. Return (z, total logdet), logdet of shape (batch,)."""
        raise NotImplementedError

    def inverse(self, z):
        """Undo forward: each layer's inverse, in reverse order. Return (x, total logdet)."""
        raise NotImplementedError

    def log_prob(self, x):
        """log p(x) = log N(z; 0, I) + logdet, where (z, logdet) = forward(x). Shape (batch,)."""
        raise NotImplementedError

    def sample(self, n, dim, generator=None):
        """z = torch.randn(n, dim, generator=generator, dtype=<parameters' dtype>); return inverse(z)[0]."""
        raise NotImplementedError
