""""This looks like a known mistake": match an attempt's failures against the mutants' signatures.

A mutant's signature is its `killed_by` set (solutions/<id>/mutants.toml: the properties
`kata validate` proves it fails). An attempt's failures are compared with each signature by
weighted Jaccard similarity (property weights: failing the heavy `merges` says more than a
one-point property), and the closest mistakes are named in the mutant's own one-line words —
never its code. Nothing is said for a passing attempt, an attempt that did not load, an
unfinished stub (every property raising the same error), or when no signature is close.
"""
from __future__ import annotations

MIN_SIMILARITY = 0.5   # below this the failures are not "like" the mistake
MAX_SHOWN = 3


def similarity(failed: set, signature: set, weights: dict) -> float:
    union = failed | signature
    if not union:
        return 0.0
    w = lambda names: sum(weights.get(n, 1.0) for n in names)  # noqa: E731
    return w(failed & signature) / w(union)


def rank(failed: set, mutants, weights: dict) -> list[tuple[float, object]]:
    """(similarity, mutant) for every mutant with a signature, best first (ties: the smaller
    signature first, as the more specific mistake; then manifest order)."""
    scored = [(similarity(failed, set(m.killed_by), weights), i, m)
              for i, m in enumerate(mutants) if m.killed_by]
    scored.sort(key=lambda t: (-t[0], len(t[2].killed_by), t[1]))
    return [(s, m) for s, _, m in scored]


def _unfinished(report) -> bool:
    """Every property raised the same exception type (a stub's NotImplementedError, say)."""
    first_lines = {(p.message or "").split("\n", 1)[0] for p in report.properties}
    return all(p.status == "error" for p in report.properties) and len(first_lines) == 1


def diagnose(kata, report) -> list[dict]:
    """The likely mistakes behind a report: [{mutant, why, similarity}], best first."""
    if report.passed or report.error or not report.properties or _unfinished(report):
        return []
    try:
        from checker.mutants import MutantError, load_mutants
        mutants = load_mutants(kata)
    except (ImportError, MutantError):
        return []  # a broken manifest is `kata validate`'s to report, not the learner's problem
    weights = {p.name: p.weight for p in report.properties}
    failed = {p.name for p in report.properties if not p.passed}
    out = []
    for score, m in rank(failed, mutants, weights):
        if score < MIN_SIMILARITY or len(out) == MAX_SHOWN:
            break
        shared = [p for p in weights if p in failed and p in m.killed_by]
        why = (f"fails {', '.join(shared)}" + ("" if set(m.killed_by) <= failed else
               f"; this mistake also fails {', '.join(sorted(set(m.killed_by) - failed))}"))
        out.append({"mutant": m.name, "mistake": m.mistake, "why": why, "similarity": round(score, 2)})
    return out
