"""Memory and time of the checkpointing reference against a plain run, on a deep stack.

    python bench/bench_checkpointing.py                     # 64 blocks, d=128, batch 256, float32
    python bench/bench_checkpointing.py --blocks 36 --runs 3 --threads 2

Each block is Linear(d, 4d) -> GELU -> Linear(4d, d), as in a transformer MLP. Two memory figures:
the bytes alive after the forward (besides its output) and their peak over forward + backward
(parameter gradients included), both bytes really resident in the process, whoever holds them
(checker.probes.PeakMemory, the same instrument the suite uses). Time is the median wall time of forward +
backward after one warm-up run, on one thread by default (torch_options.py says why). Segment
counts: 1, 2, 4, sqrt(n), n/4, n. Prints a Markdown table for the README.
"""
from __future__ import annotations

import gc
import importlib.util
import math
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from checker.probes import PeakMemory  # noqa: E402
from torch_options import parse_options  # noqa: E402 (bench/, the script's folder)


def load_reference():
    spec = importlib.util.spec_from_file_location("ckpt_ref", ROOT / "solutions/checkpointing/reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build(blocks, d, seed=0):
    torch.manual_seed(seed)
    return [torch.nn.Sequential(torch.nn.Linear(d, 4 * d), torch.nn.GELU(), torch.nn.Linear(4 * d, d))
            for _ in range(blocks)]


def plain(layers, segments, x):
    for f in layers:
        x = f(x)
    return x


def measure(fn, layers, segments, x, runs):
    params = [p for f in layers for p in f.parameters()]
    times = []
    for _ in range(runs + 1):  # the first run warms up the allocator and is dropped
        for p in params:
            p.grad = None
        t0 = time.perf_counter()
        fn(layers, segments, x).sum().backward()
        times.append(time.perf_counter() - t0)
    for p in params:
        p.grad = None
    gc.collect()
    with PeakMemory() as whole:
        with PeakMemory() as fwd:
            out = fn(layers, segments, x)
        out.sum().backward()
    retained = fwd.result()["end_bytes"] - out.untyped_storage().nbytes()
    return retained, whole.result()["peak_bytes"], statistics.median(times[1:])


def main():
    args = parse_options(__doc__, blocks=64, d=128, batch=256, runs=5)
    torch.set_num_threads(args.threads)
    ref = load_reference()
    layers = build(args.blocks, args.d)
    x = torch.randn(args.batch, args.d)
    n = args.blocks
    act = args.batch * args.d * 4
    base_kept, base_peak, base_t = measure(plain, layers, None, x, args.runs)
    print(f"{n} blocks Linear({args.d},{4 * args.d})-GELU-Linear, batch {args.batch}, float32; "
          f"one block input = {act / 2**20:.2f} MiB; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads\n")
    print("| run | alive after forward MiB | peak MiB | vs plain | fwd+bwd s | time vs plain |")
    print("|---|---|---|---|---|---|")
    print(f"| plain | {base_kept / 2**20:.1f} | {base_peak / 2**20:.1f} | 1.00 | {base_t:.3f} | 1.00 |")
    for k in sorted({1, 2, 4, round(math.sqrt(n)), max(1, n // 4), n}):
        kept, peak, t = measure(ref.checkpoint_sequential, layers, k, x, args.runs)
        tag = " (√n)" if k == round(math.sqrt(n)) else ""
        print(f"| {k} segments{tag} | {kept / 2**20:.1f} | {peak / 2**20:.1f} | {peak / base_peak:.2f} | "
              f"{t:.3f} | {t / base_t:.2f} |")


if __name__ == "__main__":
    main()
