"""saved_tensors_hooks style (non-reentrant, like torch.utils.checkpoint(use_reentrant=False)).

Each segment runs forward with grad enabled under pack hooks that store only an index, so
autograd builds the normal graph but keeps no activation; the segment's input and RNG state are
kept aside. The first unpack in backward re-runs the segment (RNG restored) under hooks that
collect what it saves, in the same order, and hands those tensors out one by one.
"""
import torch


class _Segment(torch.autograd.graph.saved_tensors_hooks):
    """The hooks of one segment, entered around its forward (like torch's own checkpoint hook)."""

    def __init__(self, layers, x):
        self.layers = layers
        self.x = x.detach()
        self.x_grad = x.requires_grad
        self.rng = torch.get_rng_state()
        self.count = 0
        self.saved = None
        super().__init__(self.pack, self.unpack)

    def pack(self, t):
        self.count += 1
        return self.count - 1

    def unpack(self, i):
        if self.saved is None or self.saved[i] is None:
            self.recompute()
        t, self.saved[i] = self.saved[i], None   # handed out once: freed as backward goes
        return t

    def recompute(self):
        saved = []
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self.rng)
            with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(
                    lambda t: saved.append(t.detach()) or len(saved) - 1, lambda i: saved[i]):
                y = self.x.detach().requires_grad_(self.x_grad)
                for f in self.layers:
                    y = f(y)
        self.saved = saved


def checkpoint_sequential(layers, segments, x):
    if segments < 1:
        raise ValueError(f"segments must be >= 1, not {segments}")
    layers = list(layers)
    segments = min(segments, len(layers))
    size, extra = divmod(len(layers), segments)
    start = 0
    for i in range(segments):
        part = layers[start:start + size + (1 if i < extra else 0)]
        with _Segment(part, x):
            for f in part:
                x = f(x)
        start += len(part)
    return x
