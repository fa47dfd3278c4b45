"""How often `kata check` names the right mistake first (checker/diagnose.py).

For every mutant of every kata, its observed failures are matched against all the kata's
signatures with one property's result withheld (leave-one-property-out: that property is dropped
from the observation and from every signature), once per property of the suite. A case counts as
right when the mutant itself is ranked first; "tied" counts the cases where it shares first place
with another mutant of the same similarity ("split": first place shared out evenly among a tie,
what a coin toss between identical signatures would score); "shown" when it is among the (at most 3) mistakes a
report would name.

    python bench/bench_diagnosis.py                  # observed = each mutant's killed_by
    python bench/bench_diagnosis.py --observed run   # observed = a real check of each mutant (slow)
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from checker import runner
from checker.catalog import Catalog
from checker.diagnose import MAX_SHOWN, MIN_SIMILARITY, rank
from checker.mutants import load_mutants, write_attempt


def observed_failures(catalog, kata, mutants, how):
    if how == "declared":
        return {m.name: set(m.killed_by) for m in mutants}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for m in mutants:
            r = runner.check(catalog, kata, write_attempt(kata, m, Path(tmp)), seed=1)
            out[m.name] = {p.name for p in r.properties if not p.passed}
            print(f"  ran {kata.id}/{m.name}: fails {sorted(out[m.name])}", file=sys.stderr, flush=True)
    return out


def withheld(mutants, prop):
    """The mutants with `prop` dropped from their signatures (same names and words)."""
    from dataclasses import replace
    return [replace(m, killed_by=tuple(p for p in m.killed_by if p != prop)) for m in mutants]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--observed", choices=("declared", "run"), default="declared")
    ap.add_argument("katas", nargs="*")
    args = ap.parse_args(argv)
    catalog = Catalog()
    katas = [catalog.get(k) for k in args.katas] if args.katas else catalog.all()
    totals = dict(cases=0, first=0, tied=0, split=0, shown=0)
    print(f"{'kata':<16} {'mutants':>7} {'cases':>6} {'first':>7} {'tied':>6} {'split':>6} {'shown':>7}")
    for kata in katas:
        mutants = [m for m in load_mutants(kata) if m.killed_by]
        weights = {p.name: p.weight for p in runner.suite_properties(kata)}
        seen = observed_failures(catalog, kata, mutants, args.observed)
        n = dict(cases=0, first=0, tied=0, split=0, shown=0)
        for m in mutants:
            for prop in weights:
                failed = seen[m.name] - {prop}
                if not failed:
                    continue
                ranked = rank(failed, withheld(mutants, prop), {k: v for k, v in weights.items() if k != prop})
                n["cases"] += 1
                best = ranked[0][0]
                top = [x.name for s, x in ranked if s == best]
                n["first"] += ranked[0][1].name == m.name
                n["tied"] += m.name in top and ranked[0][1].name != m.name
                n["split"] += (m.name in top) / len(top)
                shown = [x.name for s, x in ranked if s >= MIN_SIMILARITY][:MAX_SHOWN]
                n["shown"] += m.name in shown
        for key in totals:
            totals[key] += n[key]
        c = max(n["cases"], 1)
        print(f"{kata.id:<16} {len(mutants):>7} {n['cases']:>6} {n['first'] / c:>7.0%} "
              f"{n['tied'] / c:>6.0%} {n['split'] / c:>6.0%} {n['shown'] / c:>7.0%}")
    c = max(totals["cases"], 1)
    print(f"{'all':<16} {'':>7} {totals['cases']:>6} {totals['first'] / c:>7.0%} "
          f"{totals['tied'] / c:>6.0%} {totals['split'] / c:>6.0%} {totals['shown'] / c:>7.0%}")


if __name__ == "__main__":
    main()
