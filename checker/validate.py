"""`kata validate`: the invariants every kata must keep, checked by running the real engine.

- the reference scores 100 under every seed given (1, 2, 3 by default), and so does every
  correct alternative (solutions/<id>/alternatives/);
- the stub scores 0;
- every mutant (solutions/<id>/mutants.toml) builds, scores below 100, and fails at least the
  properties its `killed_by` declares;
- spec.md's "Scored properties" table is the one generated from the suite;
- katas/order.toml lists the kata.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from checker import runner, spec_table
from checker.catalog import Catalog, Kata
from checker.mutants import MutantError, alternatives, load_mutants, stray_files, write_attempt

DEFAULT_SEEDS = (1, 2, 3)


@dataclass
class Row:
    kata: str
    subject: str        # "reference (seed 1)", "stub", "mutant <name>", "alternative <name>"
    score: float
    ok: bool
    rule: str           # what had to hold
    note: str = ""      # the mutant's mistake, or why a row failed
    seconds: float = 0.0


def _failures(report) -> str:
    bad = [f"{p.name}: {p.status}: {p.message.splitlines()[0] if p.message else ''}"
           for p in report.properties if not p.passed]
    return report.error or "; ".join(bad)


def _static_rows(catalog: Catalog, kata: Kata, mutants) -> list[Row]:
    rows = []
    if kata.id not in catalog.order():
        rows.append(Row(kata.id, "order", 0, False, "listed", "katas/order.toml does not list it"))
    problem = spec_table.mismatch(kata)
    rows.append(Row(kata.id, "spec table", 0, problem is None, "generated",
                    problem or "matches the suite"))
    for path in stray_files(kata, mutants):
        rows.append(Row(kata.id, f"file {path.name}", 0, False, "declared",
                        "no entry of mutants.toml names it"))
    if not mutants:
        rows.append(Row(kata.id, "mutants", 0, False, "≥ 1", "the kata has no mutants"))
    return rows


def validate_kata(catalog: Catalog, kata: Kata, seeds=DEFAULT_SEEDS, on_row=None,
                  only: set[str] | None = None) -> list[Row]:
    """only: mutant names to run (None: everything)."""
    rows = []

    def add(row):
        rows.append(row)
        if on_row:
            on_row(row)

    try:
        mutants = load_mutants(kata)
    except MutantError as exc:
        add(Row(kata.id, "mutants.toml", 0, False, "readable", str(exc)))
        return rows
    if only is not None:
        mutants = [m for m in mutants if m.name in only]
    else:
        for row in _static_rows(catalog, kata, mutants):
            add(row)
        for seed in seeds:
            r = runner.check(catalog, kata, kata.reference, seed=seed)
            add(Row(kata.id, f"reference (seed {seed})", r.score, r.score == 100, "= 100",
                    _failures(r), r.seconds))
        for path in alternatives(kata):  # every seed too: a right attempt never loses a point
            for seed in seeds:
                r = runner.check(catalog, kata, path, seed=seed)
                add(Row(kata.id, f"alternative {path.stem} (seed {seed})", r.score, r.score == 100,
                        "= 100", _failures(r), r.seconds))
        r = runner.check(catalog, kata, kata.stub, seed=seeds[0])
        passing = [p.name for p in r.properties if p.passed]
        add(Row(kata.id, "stub", r.score, r.score == 0 and not r.error, "= 0",
                r.error or ("passes on the stub: " + ", ".join(passing) if passing else ""), r.seconds))
    names = set(runner.property_names(kata))
    with tempfile.TemporaryDirectory(prefix=f"kata-mutant-{kata.id}-") as tmp:
        for m in mutants:
            add(_mutant_row(catalog, kata, m, names, Path(tmp), seeds[0]))
    return rows


def _mutant_row(catalog, kata, m, names, tmp, seed) -> Row:
    subject = f"mutant {m.name}"
    unknown = [p for p in m.killed_by if p not in names]
    if unknown:
        return Row(kata.id, subject, 0, False, "< 100", f"killed_by names no property: {', '.join(unknown)}")
    try:
        path = write_attempt(kata, m, tmp)
    except MutantError as exc:
        return Row(kata.id, subject, 0, False, "< 100", str(exc))
    r = runner.check(catalog, kata, path, seed=seed)
    if r.engine_error:  # no verdict: neither killed nor survived
        return Row(kata.id, subject, 0, False, "< 100", f"internal error: {r.engine_error.strip().splitlines()[-1]}")
    failed = {p.name for p in r.properties if not p.passed}
    survived = [p for p in m.killed_by if p not in failed]
    extra = sorted(failed - set(m.killed_by))
    note = m.mistake + (f"  [also fails {', '.join(extra)}]" if extra else "")
    if r.error and not failed:
        note = f"{m.mistake}  [could not load: {r.error.splitlines()[0]}]"
    if survived:
        return Row(kata.id, subject, r.score, False, "killed",
                   f"declared killer(s) passed: {', '.join(survived)} — {m.mistake}", r.seconds)
    return Row(kata.id, subject, r.score, r.score < 100, "< 100", note, r.seconds)
