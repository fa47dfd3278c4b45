"""Grades in the formats other platforms read: JUnit XML (CI systems, GitHub Classroom) and a
Canvas gradebook CSV. Both are pure functions of the Book, like every other output.
"""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

from checker.grading.outputs import Book, _atomic, hidden
from checker.grading.records import Graded, Ungraded

_FAILED = {"fail", "timeout", "crash", "forbidden"}   # the attempt's fault: <failure>


def junit_xml(book: Book) -> str:
    """One <testsuite> per kata, one <testcase> per (student, property): classname is
    `student.kata`, name the property. A failed property is a <failure> (message and
    counterexample), an exception of the attempt an <error>, a pair the grader could not grade
    one <error type="ungraded">, a missing file one <failure type="missing">."""
    root = ET.Element("testsuites", name="kata grade")
    totals = dict(tests=0, failures=0, errors=0)
    for kata in book.kata_ids:
        suite = ET.SubElement(root, "testsuite", name=kata)
        counts = dict(tests=0, failures=0, errors=0)
        for student in book.students:
            _cases(suite, book, book.record(student, kata), counts)
        for key, n in counts.items():
            suite.set(key, str(n))
            totals[key] += n
    for key, n in totals.items():
        root.set(key, str(n))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _cases(suite, book, rec, counts):
    classname = f"{rec.student}.{rec.kata}"
    if not isinstance(rec, Graded):
        case = ET.SubElement(suite, "testcase", classname=classname, name="grade")
        counts["tests"] += 1
        if isinstance(rec, Ungraded):
            counts["errors"] += 1
            ET.SubElement(case, "error", type="ungraded",
                          message="internal error of the grader: not a verdict").text = rec.error
        else:
            counts["failures"] += 1
            ET.SubElement(case, "failure", type="missing" if rec.missing else "bad-file",
                          message=f"not graded: {rec.problem}")
        return
    for p in rec.report["properties"]:
        case = ET.SubElement(suite, "testcase", classname=classname, name=p["name"],
                             time=f"{p.get('seconds', 0):.3f}")
        counts["tests"] += 1
        if p["status"] == "pass":
            continue
        tag = "failure" if p["status"] in _FAILED else "error"
        counts["failures" if tag == "failure" else "errors"] += 1
        message = (p.get("message") or p["status"]).strip().splitlines()
        el = ET.SubElement(case, tag, type=p["status"], message=message[0] if message else p["status"])
        if not hidden(book.hide, rec.kata, p["name"]):
            ce = p.get("counterexample") or {}
            el.text = "\n".join(message + [f"{k}: {ce[k]}" for k in ("input", "expected", "got") if ce.get(k)])


def write_junit(path: Path, book: Book):
    _atomic(Path(path), junit_xml(book))


def canvas_csv(book: Book) -> str:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then one column
    per kata (a new assignment on import), a "Points Possible" row, and each student's score.
    Students are the submission folders' names, given as SIS Login ID (Canvas matches on it);
    an ungraded pair is an empty cell (Canvas leaves the grade untouched), never a 0."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
               + [f"kata {k}" for k in book.kata_ids])
    w.writerow(["    Points Possible", "", "", "", ""] + ["100"] * len(book.kata_ids))
    for row in book.rows():
        cells = ["" if row.scores[k] is None else f"{row.scores[k]:g}" for k in book.kata_ids]
        w.writerow([row.student, "", row.student, row.student, ""] + cells)
    return buf.getvalue()


def write_canvas(path: Path, book: Book):
    _atomic(Path(path), canvas_csv(book))
