"""PrairieLearn external grader: grade the submission in PrairieLearn's job folder and write its
results.json.

PrairieLearn mounts the job at /grade: the student's files in /grade/student/, results expected
at /grade/results/results.json with `gradable`, `score` in [0, 1], `message`, `output` and
`tests[]` (`name`, `description`, `points`, `max_points`, `output`, `message`). The score is the
checker's, computed from the reports; nothing the submission prints is read. When the grader
itself fails, `gradable` is false: PrairieLearn then shows the message and counts no attempt.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from checker.grading.outputs import Book, hidden
from checker.grading.records import Graded, Refused, Ungraded
from checker.grading.single import STUDENT, grade_submission

JOB = Path("/grade")


def to_results(book: Book) -> dict:
    tests, lines = [], []
    n = len(book.katas) or 1
    for k, info in book.katas.items():
        rec = book.record(STUDENT, k)
        props = (rec.report["properties"] if isinstance(rec, Graded) else
                 [{"name": p, "weight": w, "status": "error", "description": ""} for p, w in info.get("properties", [])])
        total_w = sum(p["weight"] for p in props) or 1
        for p in props:
            ok = isinstance(rec, Graded) and p["status"] == "pass"
            max_points = round(100 * p["weight"] / total_w / n, 4)
            tests.append({"name": f"{k}: {p['name']}", "description": p.get("description", ""),
                          "points": max_points if ok else 0.0, "max_points": max_points,
                          "message": "" if ok else _message(book, rec, p), "output": _output(book, rec, p, ok)})
        lines.append(f"{k}: " + ("not graded (internal error of the grader)" if isinstance(rec, Ungraded)
                                 else f"{rec.score:g}/100" if isinstance(rec, Graded) else f"0/100 ({rec.problem})"))
    if book.ungraded():
        return {"gradable": False, "score": 0.0, "tests": tests, "output": "\n".join(lines),
                "message": "The grader failed on this submission (an internal error, not a verdict on "
                           "your code); it was not graded and does not count as an attempt."}
    total = sum(t["max_points"] for t in tests) or 1
    score = round(sum(t["points"] for t in tests) / total, 4)
    return {"gradable": True, "score": min(1.0, score), "tests": tests, "output": "\n".join(lines),
            "message": f"score {100 * score:.1f}/100"}


def _message(book, rec, p) -> str:
    if isinstance(rec, Ungraded):
        return "not graded: internal error of the grader"
    if isinstance(rec, Refused):
        return f"no file {rec.kata}.py" if rec.missing else f"not graded: {rec.problem}"
    if rec.report.get("error"):
        return "the file could not be loaded"
    return p["status"]


def _output(book, rec, p, ok) -> str:
    if ok or not isinstance(rec, Graded):
        return ""
    if rec.report.get("error"):
        return rec.report["error"]
    if hidden(book.hide, rec.kata, p["name"]):
        return "(details hidden)"
    ce = p.get("counterexample") or {}
    return "\n".join([(p.get("message") or "").rstrip()]
                     + [f"{k:>8}: {ce[k]}" for k in ("input", "expected", "got") if ce.get(k)])


def run(job: Path, katas: list[str], seed: int = 0, hide=(), root=None) -> dict:
    book = grade_submission(job / "student", {"katas": katas, "seed": seed, "hide": list(hide)}, root)
    data = to_results(book)
    results = job / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_name(results.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, results)
    return data
