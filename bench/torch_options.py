"""The command line of the torch benchmarks (bench_checkpointing.py, bench_flash_attention.py)."""
from __future__ import annotations

import argparse


def parse_options(doc: str, **sizes: int) -> argparse.Namespace:
    """`--NAME N` for each of `sizes` (underscores as dashes, the value its default), and
    `--threads N`, torch's intra-op threads: 1 by default, since on a shared, loaded machine
    OpenMP threads spin against other load and make the timings swing by up to 10x."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in sizes.items():
        ap.add_argument("--" + name.replace("_", "-"), type=int, default=default)
    ap.add_argument("--threads", type=int, default=1)
    return ap.parse_args()
