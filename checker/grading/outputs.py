"""The files of a grading run, made from records in memory: a Book in, files out.

Every file but timings.csv is a pure function of the book (same bytes every run, any --jobs, a
merge of shards). A new output format is one more function `(out, book) -> None` in WRITERS (or, for one that
needs more than tables, in checker/grading/writers.py).
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from checker.grading.records import Graded, Record, Refused, Ungraded

UNGRADED = "ungraded"


@dataclass
class Row:
    """One student's line of the gradebook. A score is None where the pair is ungraded; the
    total is None as soon as one pair is (a partial sum would read as a grade)."""
    student: str
    scores: dict
    total: float | None
    flags: list[str]
    missing: list[str]
    ungraded: list[str]


@dataclass
class Book:
    engine: str
    seed: int
    students: list[str]
    katas: dict                    # kata id -> {"version", "seed", "title", "properties"}, in order
    records: dict                  # (student, kata) -> Record
    hide: list[str] = field(default_factory=list)
    pairs: list = field(default_factory=list)      # checker.similarity.Pair, every pair per kata
    threshold: float = 0.8                         # a pair at or above it is flagged `similar:`
    hidden_until: str | None = None                # hide applies until this date (YYYY-MM-DD)

    def similar(self) -> list:
        return [p for p in self.pairs if p.score >= self.threshold]

    @property
    def kata_ids(self) -> list[str]:
        return list(self.katas)

    def record(self, student: str, kata: str) -> Record:
        return self.records.get((student, kata)) or Refused(student, kata, "missing")

    def rows(self) -> list[Row]:
        return [self._row(s) for s in self.students]

    def _row(self, s: str) -> Row:
        scores, flags, missing, ungraded = {}, [], [], []
        for k in self.kata_ids:
            rec = self.record(s, k)
            if isinstance(rec, Graded):
                scores[k] = rec.score
                flags += [f"{k}:{f}" for f in rec.flags]
            elif isinstance(rec, Ungraded):
                scores[k] = None
                ungraded.append(k)
                flags.append(f"{k}:{UNGRADED}")
            else:
                scores[k] = 0.0
                if rec.missing:
                    missing.append(k)
                else:
                    flags.append(f"{k}:bad-file")
        for p in self.similar():
            if s in (p.a, p.b):
                flags.append(f"{p.kata}:similar:{p.b if s == p.a else p.a}")
        total = None if ungraded else round(sum(scores.values()), 1)
        return Row(s, scores, total, flags, missing, ungraded)

    def ungraded(self) -> list[Ungraded]:
        return [r for key, r in sorted(self.records.items()) if isinstance(r, Ungraded)]


def hidden(hide, kata: str, prop: str) -> bool:
    return f"{kata}.{prop}" in hide or prop in hide or f"{kata}.*" in hide


def _cell(score) -> str:
    return UNGRADED if score is None else f"{score:g}"


def _atomic(path: Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---- the writers ------------------------------------------------------------------------------
def write_gradebook_csv(out: Path, book: Book):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", *book.kata_ids, "total", "flags", "missing"])
    for r in book.rows():
        w.writerow([r.student, *[_cell(r.scores[k]) for k in book.kata_ids], _cell(r.total),
                    "; ".join(r.flags), " ".join(r.missing)])
    _atomic(out / "gradebook.csv", buf.getvalue())


def report_json(rec: Record) -> dict:
    """A pair's entry in grades.json."""
    if isinstance(rec, Graded):
        return dict(rec.report, sha256=rec.stamp.sha)
    if isinstance(rec, Ungraded):
        return {"kata": rec.kata, "score": None, UNGRADED: rec.error}
    return {"kata": rec.kata, "score": 0, "problem": rec.problem}


def write_grades_json(out: Path, book: Book):
    students = {}
    for r in book.rows():
        students[r.student] = {"total": r.total, "flags": r.flags, "missing": r.missing,
                               UNGRADED: r.ungraded,
                               "reports": {k: report_json(book.record(r.student, k)) for k in book.kata_ids}}
    grades = {"engine": book.engine, "seed": book.seed, "katas": book.katas,
              "hidden_details": sorted(book.hide), "hidden_until": book.hidden_until,
              "similarity_threshold": book.threshold, "students": students}
    _atomic(out / "grades.json", json.dumps(grades, indent=1, sort_keys=True) + "\n")


def write_feedback(out: Path, book: Book):
    fb = out / "feedback"
    fb.mkdir(exist_ok=True)
    for r in book.rows():
        _atomic(fb / f"{r.student}.md", feedback_markdown(book, r))


def write_timings(out: Path, book: Book):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "kata", "check_seconds", "property_seconds"])
    for s in book.students:
        for k in book.kata_ids:
            rec = book.record(s, k)
            if isinstance(rec, Graded):
                w.writerow([s, k, rec.seconds, rec.property_seconds])
    _atomic(out / "timings.csv", buf.getvalue())


def write_similarity_csv(out: Path, book: Book):
    """Every pair of students per kata with a score in [0, 1] and the matching line ranges."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kata", "student_a", "student_b", "score", "flagged", "lines_a", "lines_b"])
    spans = lambda xs: " ".join(f"{a}-{b}" for a, b in xs)  # noqa: E731
    for p in book.pairs:
        w.writerow([p.kata, p.a, p.b, f"{p.score:.3f}", "yes" if p.score >= book.threshold else "",
                    spans(p.lines_a), spans(p.lines_b)])
    _atomic(out / "similarity.csv", buf.getvalue())


def read_similarity_csv(folder: Path) -> list:
    """The pairs a run wrote (every shard writes the whole class's): for grade-merge."""
    from checker.similarity import Pair
    spans = lambda text: [tuple(int(x) for x in r.split("-")) for r in text.split()]  # noqa: E731
    try:
        with open(Path(folder) / "similarity.csv", newline="") as f:
            return [Pair(r["kata"], r["student_a"], r["student_b"], float(r["score"]), spans(r["lines_a"]),
                         spans(r["lines_b"])) for r in csv.DictReader(f)]
    except (OSError, KeyError, ValueError):
        return []


WRITERS = (write_gradebook_csv, write_grades_json, write_feedback, write_timings, write_similarity_csv)



# ---- feedback -----------------------------------------------------------------------------------
def feedback_markdown(book: Book, row: Row) -> str:
    s = row.student
    total = "not final (a kata is still to be graded)" if row.total is None else f"**{row.total:g}**"
    lines = [f"# Feedback for {s}", "", f"Total: {total} / {100 * len(book.kata_ids)}", ""]
    for k in book.kata_ids:
        lines += _kata_feedback(book, book.record(s, k), book.katas[k].get("title", k))
    return "\n".join(lines)


def _kata_feedback(book: Book, rec: Record, title: str) -> list[str]:
    k = rec.kata
    if isinstance(rec, Ungraded):
        return [f"## {k} — {title}: not graded yet", "",
                "The grader itself failed on this kata (an internal error, not a verdict on your code); "
                "it will be graded again.", ""]
    if isinstance(rec, Refused):
        why = f"No file `{k}.py` was found." if rec.missing else f"Not graded: {rec.problem}."
        return [f"## {k} — {title}: 0/100", "", why, ""]
    rep = rec.report
    lines = [f"## {k} — {title}: {rep['score']:g}/100", ""]
    if rep.get("error"):
        lines += ["The file could not be loaded:", "", "```", rep["error"].rstrip(), "```", ""]
    for p in rep["properties"]:
        mark = "✓" if p["status"] == "pass" else "✗"
        lines.append(f"- {mark} **{p['name']}** ({p['weight']:g}) — {p['description']}"
                     + ("" if p["status"] == "pass" else f" — *{p['status']}*"))
    for p in rep["properties"]:
        if p["status"] == "pass" or rep.get("error"):
            continue
        lines += ["", f"### {p['name']}: {p['status']}"]
        if hidden(book.hide, k, p["name"]):
            lines += ["", "(details of this property are hidden)"]
            continue
        lines += ["", "```", (p.get("message") or "").rstrip()]
        ce = p.get("counterexample") or {}
        for label in ("input", "expected", "got"):
            if ce.get(label):
                lines.append(f"{label:>8}: {ce[label]}")
        lines.append("```")
    lines.append("")
    return lines
