"""Grade a synthetic class and report wall time and per-check overhead.

    python bench/bench_grade.py                      # 40 students x every kata, --jobs 2, twice
    python bench/bench_grade.py --students 10 --katas merge_sorted,lca --runs 1

Each student gets, per kata, the reference, a mutant, the stub or a hostile submission (a fixed,
seeded mix: 40% reference, 30% mutants, 20% stubs, 10% hostile, every kind of tests/hostile_kinds.py at
least once; each must be contained and carry its flag). Overhead of a check = its wall
time in the grading slot (worker fork, sandbox, load, every request's round trip, stop and
process sweep) minus the sum of its properties' own seconds as the runner measures them; load
failures (no properties ran) are left out. With --runs 2 the two gradebooks and grades.json files
must be identical (reproducibility).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/hostile_kinds.py: the one table
from tests import hostile_kinds  # noqa: E402
from checker import grading as grade
from checker.catalog import Catalog
from checker.mutants import load_mutants, materialise


def make_class(dest: Path, katas, n: int, outs, seed: int = 0) -> dict:
    """Fill dest/<student>/ and return {(student, kata): kind}. Hostile slots take the kinds of
    tests/hostile_kinds.py in a shuffled cycle, so each kind appears once the class has as many
    hostile slots as there are kinds."""
    rng = random.Random(seed)
    hostile = []
    mix = {}
    for i in range(n):
        s = dest / f"student{i:03d}"
        s.mkdir(parents=True)
        for k in katas:
            r = rng.random()
            mutants = load_mutants(k)
            if r < 0.4:
                kind, made = "reference", {k.filename: k.reference.read_text()}
            elif r < 0.7 and mutants:
                m = rng.choice(mutants)
                kind, made = f"mutant {m.name}", {k.filename: materialise(k, m)}
            elif r < 0.9:
                kind, made = "stub", {k.filename: k.stub.read_text()}
            else:
                if not hostile:
                    hostile = rng.sample(hostile_kinds.NAMES, len(hostile_kinds.NAMES))
                name = hostile.pop()
                kind = f"hostile {name}"
                made = hostile_kinds.files(name, k, materialise(k, rng.choice(mutants)), outs)
            for fname, text in made.items():
                (s / fname).write_text(text)
            mix[(s.name, k.id)] = kind
    return mix


def check_hostile(mix, grades) -> list[str]:
    """Every hostile submission is contained (no score it could not earn) and carries its flag."""
    problems, seen = [], set()
    for (s, k), kind in sorted(mix.items()):
        if not kind.startswith("hostile "):
            continue
        name = kind.split()[1]
        seen.add(name)
        entry = grades["students"][s]
        score = entry["reports"][k]["score"]
        limit = 99.99 if hostile_kinds.KINDS[name].where == "mutant" else 0
        if score > limit:
            problems.append(f"{s} {k} {name}: score {score} > {limit}")
        lacking = [f for f in hostile_kinds.FLAGS[name] if f"{k}:{f}" not in entry["flags"]]
        if lacking:
            problems.append(f"{s} {k} {name}: flags {entry['flags']} lack {lacking}")
    missing = set(hostile_kinds.NAMES) - seen
    # A small class (--students 5) has fewer hostile slots than kinds: only a full cycle must cover all.
    if missing and sum(kind.startswith("hostile ") for kind in mix.values()) >= len(hostile_kinds.NAMES):
        problems.append(f"kinds not in the class: {sorted(missing)}")
    return problems


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
    outs = [base / f"out{run + 1}" for run in range(args.runs)]
    mix = make_class(subs, katas, args.students, outs)
    print(f"class: {args.students} students x {len(katas)} katas ({', '.join(k.id for k in katas)}) "
          f"= {len(mix)} checks, --jobs {args.jobs}")
    walls = []
    for run in range(args.runs):
        out = outs[run]
        if out.exists():
            shutil.rmtree(out)
        t0 = time.perf_counter()
        res = grade.run(grade.Options(submissions=subs, out=out, katas=[k.id for k in katas],
                                      jobs=args.jobs, seed=1, progress=sys.stderr.isatty()))
        walls.append(time.perf_counter() - t0)
        print(f"run {run + 1}: {walls[-1]:.1f} s wall, {res.graded} checks, "
              f"{len(res.ungraded)} ungraded")
    rows = (outs[0] / "timings.csv").read_text().splitlines()[1:]
    books_json = [json.loads((o / "grades.json").read_text()) for o in outs]
    grades = books_json[0]
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
    kinds = sorted({v for v in mix.values() if v.startswith("hostile ")})
    problems = [p for g in books_json for p in check_hostile(mix, g)]
    print(f"hostile: {sum(v.startswith('hostile ') for v in mix.values())} submissions of {len(kinds)} kinds; "
          f"contained and flagged: {not problems}")
    for p in problems:
        print("  " + p)
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
            problems.append("not reproducible")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
