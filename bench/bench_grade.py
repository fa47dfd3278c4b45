"""Grade a synthetic class and report wall time and per-check overhead.

    python bench/bench_grade.py                      # 40 students x every kata, --jobs 2, twice
    python bench/bench_grade.py --students 10 --katas merge_sorted,lca --runs 1

Each student gets, per kata, the reference, a mutant, the stub or a hostile file (a fixed,
seeded mix: 40% reference, 30% mutants, 20% stubs, 10% hostile). Overhead of a check = its wall
time in the grading slot (worker fork, sandbox, load, every request's round trip, stop and
process sweep) minus the sum of its properties' own seconds as the runner measures them; load
failures (no properties ran) are left out. With --runs 2 the two gradebooks and grades.json files
must be identical (reproducibility).
"""
from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from checker import grade
from checker.catalog import Catalog

HOSTILE = {
    "loop_at_import": "while True:\n    pass\n",
    "os_exit_at_import": "import os\nos._exit(0)\n",
    "syntax_error": "def f(:\n",
    "segfault_at_import": "import ctypes\nctypes.string_at(0)\n",
    "memory_bomb_at_import": "x = []\nwhile True:\n    x.append(bytearray(100 << 20))\n",
    "prints_and_exits": "import sys\nprint('Score: 100/100')\nsys.exit(0)\n",
}


def make_class(dest: Path, katas, n: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    mix = {}
    for i in range(n):
        s = dest / f"student{i:03d}"
        s.mkdir(parents=True)
        for k in katas:
            r = rng.random()
            mutants = k.mutants()
            if r < 0.4:
                kind, src = "reference", k.reference.read_text()
            elif r < 0.7 and mutants:
                m = rng.choice(mutants)
                kind, src = f"mutant {m.stem}", m.read_text()
            elif r < 0.9:
                kind, src = "stub", k.stub.read_text()
            else:
                name = rng.choice(sorted(HOSTILE))
                kind, src = f"hostile {name}", HOSTILE[name]
            (s / k.filename).write_text(src)
            mix[(s.name, k.id)] = kind
    return mix


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--katas", default="")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--keep", default=None, help="keep the class and outputs in this folder")
    args = ap.parse_args()
    catalog = Catalog()
    katas = [catalog.get(k) for k in args.katas.split(",") if k] or catalog.all()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kata-bench-"))
    subs = base / "class"
    if subs.exists():
        shutil.rmtree(subs)
    mix = make_class(subs, katas, args.students)
    print(f"class: {args.students} students x {len(katas)} katas ({', '.join(k.id for k in katas)}) "
          f"= {len(mix)} checks, --jobs {args.jobs}")
    walls, outs = [], []
    for run in range(args.runs):
        out = base / f"out{run + 1}"
        if out.exists():
            shutil.rmtree(out)
        t0 = time.perf_counter()
        res = grade.run(grade.Options(submissions=subs, out=out, katas=[k.id for k in katas],
                                      jobs=args.jobs, seed=1, progress=sys.stderr.isatty()))
        walls.append(time.perf_counter() - t0)
        outs.append(out)
        print(f"run {run + 1}: {walls[-1]:.1f} s wall, {res.graded} checks, "
              f"{len(res.not_graded)} not graded")
    rows = (outs[0] / "timings.csv").read_text().splitlines()[1:]
    import json
    grades = json.loads((outs[0] / "grades.json").read_text())
    per_kata: dict = {}
    overheads = []
    for line in rows:
        s, k, wall, props = line.split(",")
        rep = grades["students"][s]["reports"][k]
        per_kata.setdefault(k, []).append(float(wall))
        if not rep.get("error"):
            overheads.append(float(wall) - float(props))
    print("\n| kata | checks | mean check s | max check s |\n|---|---|---|---|")
    for k, ws in per_kata.items():
        print(f"| {k} | {len(ws)} | {statistics.mean(ws):.2f} | {max(ws):.2f} |")
    q = statistics.quantiles(overheads, n=10) if len(overheads) > 1 else overheads * 9
    print(f"\nper-check overhead (check wall − property seconds, {len(overheads)} loaded checks): "
          f"median {statistics.median(overheads):.3f} s, mean {statistics.mean(overheads):.3f} s, "
          f"p90 {q[-1]:.3f} s")
    print(f"total wall: {', '.join(f'{w:.1f} s' for w in walls)} (goal ≤ 600 s)")
    if len(outs) > 1:
        # "Identical reports, timings aside": a timing property's message quotes the seconds it
        # measured (e.g. "the reference takes 0.09 s"), so those figures are masked.
        def comparable(path):
            return re.sub(r"\d+(\.\d+)? s\b", "<t> s", path.read_text())
        books = all((outs[0] / "gradebook.csv").read_bytes() == (o / "gradebook.csv").read_bytes()
                    for o in outs[1:])
        reports = all(comparable(outs[0] / "grades.json") == comparable(o / "grades.json") for o in outs[1:])
        print(f"reproducible: gradebook.csv identical across runs: {books}; "
              f"grades.json identical (measured seconds masked): {reports}")
        if not (books and reports):
            sys.exit(1)


if __name__ == "__main__":
    main()
