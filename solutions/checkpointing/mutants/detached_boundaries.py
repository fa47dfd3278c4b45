import torch


def checkpoint_sequential(layers, segments, x):
    if segments < 1:
        raise ValueError("segments must be >= 1")
    n = len(layers)
    segments = min(segments, n)
    bounds = [i * n // segments for i in range(segments + 1)]
    for lo, hi in zip(bounds[:-2], bounds[1:-1]):
        with torch.no_grad():
            for f in layers[lo:hi]:
                x = f(x)
    for f in layers[bounds[-2]:]:
        x = f(x)
    return x
