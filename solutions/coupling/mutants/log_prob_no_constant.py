"""log_prob leaves out the -D/2 * log(2*pi) normalizing term of the base density."""
import math

import torch
from torch import nn


class _Coupling(nn.Module):
    """Shared mask handling: `keep` marks the conditioning dimensions (passed through)."""

    def __init__(self, mask):
        super().__init__()
        # A buffer follows the module across .to(dtype/device); bool works for any input dtype.
        self.register_buffer("keep", torch.as_tensor(mask).bool())

    def _cond(self, x):
        # What the nets see: the conditioning dims, zeros elsewhere (never the transformed dims).
        return torch.where(self.keep, x, torch.zeros((), dtype=x.dtype))


class AdditiveCoupling(_Coupling):
    def __init__(self, mask, net):
        super().__init__(mask)
        self.net = net

    def forward(self, x):
        y = torch.where(self.keep, x, x + self.net(self._cond(x)))
        return y, x.new_zeros(x.shape[0])

    def inverse(self, y):
        # The conditioning dims of y are those of x, so the net sees exactly what it saw forward.
        x = torch.where(self.keep, y, y - self.net(self._cond(y)))
        return x, y.new_zeros(y.shape[0])


class AffineCoupling(_Coupling):
    def __init__(self, mask, scale_net, shift_net):
        super().__init__(mask)
        self.scale_net = scale_net
        self.shift_net = shift_net

    def _st(self, h):
        zero = torch.zeros((), dtype=h.dtype)
        # Zeroing s and t on the conditioning dims makes exp(s) = 1 there: no overflow, no NaN.
        s = torch.where(self.keep, zero, self.scale_net(h))
        t = torch.where(self.keep, zero, self.shift_net(h))
        return s, t

    def forward(self, x):
        s, t = self._st(self._cond(x))
        return x * torch.exp(s) + t, s.sum(dim=1)

    def inverse(self, y):
        s, t = self._st(self._cond(y))
        return (y - t) * torch.exp(-s), -s.sum(dim=1)


class Flow(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)  # registered, so .parameters() sees every net

    def forward(self, x):
        logdet = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z):
        logdet = z.new_zeros(z.shape[0])
        for layer in reversed(self.layers):
            z, ld = layer.inverse(z)
            logdet = logdet + ld
        return z, logdet

    def log_prob(self, x):
        z, logdet = self.forward(x)
        d = z.shape[1]
        base = -0.5 * (z * z).sum(dim=1)
        return base + logdet

    def sample(self, n, dim, generator=None):
        dtype = next(self.parameters()).dtype
        z = torch.randn(n, dim, generator=generator, dtype=dtype)
        return self.inverse(z)[0]
