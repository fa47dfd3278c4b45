"""Worker-side setup for flash_attention (the suite measures through checker.probes by name).

The attempt runs many small tile ops. On a busy 2-core machine, intra-op OpenMP threads spin
and wait on each other and make each op ~20x slower; one thread is also what the benchmark and
a learner's laptop see per op at these sizes.
"""
import torch

torch.set_num_threads(1)
