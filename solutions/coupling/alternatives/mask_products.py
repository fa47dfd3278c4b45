"""Float mask arithmetic as in the papers: y = m·x + (1 − m)·(x·exp(s) + t), the inverse divides by
exp(s), logdet = ((1 − m)·s).sum(1); the Flow folds its layers with a plain loop over a list copy."""
import math

import torch
from torch import nn


def _float_mask(mask):
    return torch.as_tensor(mask).to(torch.float64)


class AdditiveCoupling(nn.Module):
    def __init__(self, mask, net):
        super().__init__()
        self.register_buffer("m", _float_mask(mask))
        self.net = net

    def forward(self, x):
        m = self.m.to(x.dtype)
        return x + (1 - m) * self.net(m * x), torch.zeros(x.shape[0], dtype=x.dtype)

    def inverse(self, y):
        m = self.m.to(y.dtype)
        return y - (1 - m) * self.net(m * y), torch.zeros(y.shape[0], dtype=y.dtype)


class AffineCoupling(nn.Module):
    def __init__(self, mask, scale_net, shift_net):
        super().__init__()
        self.register_buffer("m", _float_mask(mask))
        self.scale_net, self.shift_net = scale_net, shift_net

    def _st(self, h, m):
        free = 1 - m
        return free * self.scale_net(h), free * self.shift_net(h)

    def forward(self, x):
        m = self.m.to(x.dtype)
        s, t = self._st(m * x, m)
        y = m * x + (1 - m) * (x * torch.exp(s) + t)
        return y, s.sum(dim=1)

    def inverse(self, y):
        m = self.m.to(y.dtype)
        s, t = self._st(m * y, m)
        x = m * y + (1 - m) * ((y - t) / torch.exp(s))
        return x, -s.sum(dim=1)


class Flow(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(list(layers))

    def forward(self, x):
        total = torch.zeros(x.shape[0], dtype=x.dtype)
        for layer in self.layers:
            x, ld = layer.forward(x)
            total = total + ld
        return x, total

    def inverse(self, z):
        total = torch.zeros(z.shape[0], dtype=z.dtype)
        for layer in list(self.layers)[::-1]:
            z, ld = layer.inverse(z)
            total = total + ld
        return z, total

    def log_prob(self, x):
        z, logdet = self.forward(x)
        log_normal = -0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)
        return log_normal.sum(dim=1) + logdet

    def sample(self, n, dim, generator=None):
        dtype = next(self.parameters()).dtype
        return self.inverse(torch.randn(n, dim, generator=generator, dtype=dtype))[0]
