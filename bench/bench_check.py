"""Median wall time of `kata check NAME --reference`, as a learner would run it.

    python bench/bench_check.py                 # every kata, 5 runs each
    python bench/bench_check.py lca merge_sorted --runs 7

Each run is a fresh `kata` process (interpreter start, imports, worker start, all properties),
with a fixed seed per run so runs are comparable. Prints a Markdown table for the README.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from checker.catalog import Catalog


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("katas", nargs="*")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    exe = shutil.which("kata") or sys.exit("kata is not installed (pip install -e .)")
    names = args.katas or [k.id for k in Catalog().all()]
    print("| kata | median s | min s | max s | runs |\n|---|---|---|---|---|")
    for name in names:
        times = []
        for run in range(args.runs):
            t0 = time.perf_counter()
            r = subprocess.run([exe, "check", name, "--reference", "--seed", str(run + 1), "--json"],
                               capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if r.returncode != 0:
                sys.exit(f"{name}: the reference did not score 100 (seed {run + 1})\n{r.stdout[-2000:]}")
        print(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | {args.runs} |",
              flush=True)


if __name__ == "__main__":
    main()
