"""Index bookkeeping: the conditioning and transformed dimensions as two index tensors; the
transformed columns are computed on their own and put back with index_copy."""
import math

import torch
from torch import nn


class _Split(nn.Module):
    """The mask's index tensors, and the layer's nets registered under their names."""

    def __init__(self, mask, **nets):
        super().__init__()
        for name, net in nets.items():
            self.add_module(name, net)
        keep = torch.as_tensor(mask).bool()
        self.register_buffer("keep", keep)
        self.register_buffer("free_idx", torch.nonzero(~keep).flatten())

    def conditioning(self, x):
        return x * self.keep.to(x.dtype)

    def put(self, x, cols):
        return x.index_copy(1, self.free_idx, cols)


class AdditiveCoupling(_Split):
    def __init__(self, mask, net):
        super().__init__(mask, net=net)

    def _shift(self, h):
        return self.net(self.conditioning(h)).index_select(1, self.free_idx)

    def forward(self, x):
        cols = x.index_select(1, self.free_idx) + self._shift(x)
        return self.put(x, cols), x.new_zeros(len(x))

    def inverse(self, y):
        cols = y.index_select(1, self.free_idx) - self._shift(y)
        return self.put(y, cols), y.new_zeros(len(y))


class AffineCoupling(_Split):
    def __init__(self, mask, scale_net, shift_net):
        super().__init__(mask, scale_net=scale_net, shift_net=shift_net)

    def _st(self, h):
        c = self.conditioning(h)
        return (self.scale_net(c).index_select(1, self.free_idx),
                self.shift_net(c).index_select(1, self.free_idx))

    def forward(self, x):
        s, t = self._st(x)
        cols = x.index_select(1, self.free_idx) * s.exp() + t
        return self.put(x, cols), s.sum(1)

    def inverse(self, y):
        s, t = self._st(y)
        cols = (y.index_select(1, self.free_idx) - t) * (-s).exp()
        return self.put(y, cols), -s.sum(1)


class Flow(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def _run(self, v, steps):
        logdet = v.new_zeros(len(v))
        for step in steps:
            v, ld = step(v)
            logdet = logdet + ld
        return v, logdet

    def forward(self, x):
        return self._run(x, [layer.forward for layer in self.layers])

    def inverse(self, z):
        return self._run(z, [layer.inverse for layer in reversed(self.layers)])

    def log_prob(self, x):
        z, logdet = self(x)
        return logdet - 0.5 * (z ** 2).sum(1) - z.shape[1] * 0.5 * math.log(2 * math.pi)

    def sample(self, n, dim, generator=None):
        p = next(iter(self.parameters()))
        z = torch.randn(n, dim, generator=generator, dtype=p.dtype)
        x, _ = self.inverse(z)
        return x
