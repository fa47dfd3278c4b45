"""Worker-side glue for checkpointing: builds the seeded stack, runs the attempt, backpropagates,
and reports outputs, gradients, call counts and tracked memory. It measures; the suite judges."""
import torch

from katas._shared.layers import Counted, run_stack


def run(attempt, recipe, segments, measure=False):
    return run_stack(recipe, attempt.checkpoint_sequential, segments=segments, measure=measure)


def bad_segments(attempt, segments):
    """Call the attempt with an invalid segment count (the suite expects a ValueError)."""
    layers = [Counted(torch.nn.Tanh()) for _ in range(3)]
    attempt.checkpoint_sequential(layers, segments, torch.ones(2, 2, dtype=torch.float64))
