"""torch.where on a bool mask held as a plain attribute, logdets summed with masked_fill, the
base density from torch.distributions.Normal, and the Flow's inverse walking indices backwards."""
import torch
from torch import nn
from torch.distributions import Normal


class AdditiveCoupling(nn.Module):
    def __init__(self, mask, net):
        super().__init__()
        self.keep = torch.as_tensor(mask) != 0
        self.net = net

    def forward(self, x):
        h = torch.where(self.keep, x, torch.zeros_like(x))
        return torch.where(self.keep, x, x + self.net(h)), torch.zeros(x.size(0), dtype=x.dtype)

    def inverse(self, y):
        h = torch.where(self.keep, y, torch.zeros_like(y))
        return torch.where(self.keep, y, y - self.net(h)), torch.zeros(y.size(0), dtype=y.dtype)


class AffineCoupling(nn.Module):
    def __init__(self, mask, scale_net, shift_net):
        super().__init__()
        self.keep = torch.as_tensor(mask) != 0
        self.scale_net = scale_net
        self.shift_net = shift_net

    def _s_t(self, v):
        h = torch.where(self.keep, v, torch.zeros_like(v))
        s = self.scale_net(h).masked_fill(self.keep, 0.0)
        t = self.shift_net(h).masked_fill(self.keep, 0.0)
        return s, t

    def forward(self, x):
        s, t = self._s_t(x)
        return torch.where(self.keep, x, x * torch.exp(s) + t), s.sum(-1)

    def inverse(self, y):
        s, t = self._s_t(y)
        return torch.where(self.keep, y, (y - t) * torch.exp(-s)), -s.sum(-1)


class Flow(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        logdet = 0
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z):
        logdet = 0
        for i in range(len(self.layers) - 1, -1, -1):
            z, ld = self.layers[i].inverse(z)
            logdet = logdet + ld
        return z, logdet

    def log_prob(self, x):
        z, logdet = self.forward(x)
        zero = torch.zeros((), dtype=z.dtype)
        return Normal(zero, torch.ones((), dtype=z.dtype)).log_prob(z).sum(-1) + logdet

    def sample(self, n, dim, generator=None):
        dtype = next(self.parameters()).dtype
        return self.inverse(torch.randn(n, dim, generator=generator, dtype=dtype))[0]
