"""`kata validate`: the invariants every kata must keep, checked by running the real engine.

The reference scores 100 under several seeds, the stub scores 0, and every mutant scores below 100.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from checker import runner
from checker.catalog import Catalog, Kata

DEFAULT_SEEDS = (1, 2, 3)


@dataclass
class Row:
    kata: str
    subject: str        # "reference (seed 1)", "stub", "mutant <name>"
    score: float
    ok: bool
    rule: str           # what the score had to be
    note: str = ""      # the mutant's one-line description, or why a row failed
    seconds: float = 0.0


def describe(path) -> str:
    try:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    except SyntaxError:
        return ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def validate_kata(catalog: Catalog, kata: Kata, seeds=DEFAULT_SEEDS, on_row=None) -> list[Row]:
    rows = []

    def add(row):
        rows.append(row)
        if on_row:
            on_row(row)

    for seed in seeds:
        r = runner.check(catalog, kata, kata.reference, seed=seed)
        bad = [f"{p.name}: {p.status}: {p.message.splitlines()[0] if p.message else ''}"
               for p in r.properties if not p.passed]
        add(Row(kata.id, f"reference (seed {seed})", r.score, r.score == 100, "= 100",
                r.error or "; ".join(bad), r.seconds))
    r = runner.check(catalog, kata, kata.stub, seed=seeds[0])
    passing = [p.name for p in r.properties if p.passed]
    add(Row(kata.id, "stub", r.score, r.score == 0 and not r.error, "= 0",
            r.error or ("passes on the stub: " + ", ".join(passing) if passing else ""), r.seconds))
    mutants = kata.mutants()
    if len(mutants) < 1:
        add(Row(kata.id, "mutants", 0, False, "≥ 1", "the kata has no mutants"))
    for path in mutants:
        r = runner.check(catalog, kata, path, seed=seeds[0])
        killed_by = [p.name for p in r.properties if not p.passed]
        note = describe(path) + (f"  [killed by {', '.join(killed_by)}]" if killed_by else "")
        add(Row(kata.id, f"mutant {path.stem}", r.score, r.score < 100, "< 100", note, r.seconds))
    return rows
