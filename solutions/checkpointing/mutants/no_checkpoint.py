def checkpoint_sequential(layers, segments, x):
    if segments < 1:
        raise ValueError("segments must be >= 1")
    for f in layers:
        x = f(x)
    return x
