"""Gradescope: grade one submission as an autograder, and build the autograder bundle.

results.json follows Gradescope's autograder specification: top-level score, execution_time,
output, visibility, stdout_visibility and tests[], one test per property with name, score,
max_score, status, output, visibility, number and tags. The score is computed by the checker from
the reports; nothing the submission prints or writes is read (stdout is hidden from students).
"""
from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

from checker.catalog import Catalog
from checker.grading.outputs import Book, hidden
from checker.grading.plan import GradeError, resolve_katas
from checker.grading.records import Graded, Refused, Ungraded
from checker.grading.single import STUDENT, grade_submission

CONFIG = "kata_autograder.json"


def load_config(path: Path | None) -> dict:
    cfg = {"katas": None, "seed": 0, "hide": [], "hidden_visibility": "after_published", "points": None}
    if path is not None:
        try:
            cfg.update(json.loads(Path(path).read_text()))
        except (OSError, ValueError) as exc:
            raise GradeError(f"cannot read the autograder config {path}: {exc}") from None
    return cfg


def run(submission: Path, results: Path, cfg: dict, root=None) -> dict:
    t0 = time.perf_counter()
    data = to_results(grade_submission(submission, cfg, root), cfg, time.perf_counter() - t0)
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_name(results.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, results)
    return data


def to_results(book: Book, cfg: dict, seconds: float = 0.0) -> dict:
    """Gradescope's results.json. If the engine failed on any kata, no score at all: a partial
    sum would count the ungraded kata as 0 against the student."""
    hide = cfg.get("hide", [])
    points = cfg.get("points") or {}
    tests, lines, number = [], [], 0
    ungraded = book.ungraded()
    for k, info in book.katas.items():
        rec = book.record(STUDENT, k)
        kata_points = float(points.get(k, 100) if isinstance(points, dict) else 100)
        props = (rec.report["properties"] if isinstance(rec, Graded) else
                 [{"name": n, "weight": w, "status": "error", "description": ""} for n, w in info.get("properties", [])])
        total_w = sum(p["weight"] for p in props) or 1
        if isinstance(rec, Ungraded):
            lines.append(f"{k}: not graded (internal error of the grader, not a verdict on your code)")
        else:
            score = rec.score if isinstance(rec, Graded) else 0
            lines.append(f"{k}: {score:g}/100" + (f" ({rec.problem})" if isinstance(rec, Refused) else ""))
        for p in props:
            number += 1
            tests += _tests(rec, p, kata_points * p["weight"] / total_w, number, hide, cfg)
    flags = [f for row in book.rows() for f in row.flags]
    output = "\n".join(lines) + (f"\nflags: {'; '.join(flags)}" if flags else "")
    data = {"output": output, "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
            "execution_time": int(round(seconds))}
    if ungraded:
        data["output"] += ("\nThis submission could not be graded because the grader failed; "
                           "no score is given. Your instructor will regrade it.")
        for t in data["tests"]:
            t.pop("score", None)
            t.pop("max_score", None)
        return data
    return {"score": round(sum(t["score"] for t in tests), 4), "execution_time": int(round(seconds)), **data}


def _tests(rec, p, max_score, number, hide, cfg) -> list[dict]:
    """The property's test; with hidden_visibility "after_due_date", a hidden property's test
    stays visible by name and score, and a 0-point twin holding the details is shown by
    Gradescope only after the due date."""
    if not (hidden(hide, rec.kata, p["name"]) and cfg.get("hidden_visibility") == "after_due_date"):
        return [_test(rec, p, max_score, number, hide, cfg)]
    named = _test(rec, p, max_score, number, hide, cfg)
    named["visibility"] = "visible"
    full = _test(rec, p, 0.0, number, (), cfg)
    full.update(name=full["name"] + " (details)", number=f"{number}.1", score=0.0, max_score=0.0,
                visibility="after_due_date")
    return [named, full]


def _test(rec, p, max_score, number, hide, cfg) -> dict:
    k = rec.kata
    ok = isinstance(rec, Graded) and p["status"] == "pass"
    if isinstance(rec, Ungraded):
        out = "Not graded: the grader failed (internal error)."
    elif isinstance(rec, Refused):
        out = f"No file {k}.py was found in the submission." if rec.missing else f"Not graded: {rec.problem}."
    elif rec.report.get("error"):
        out = "The file could not be loaded:\n" + rec.report["error"]
    else:
        out = p.get("description", "")
        if not ok:
            if hidden(hide, k, p["name"]):
                out += f"\n{p['status']} (details hidden" + (
                    " until the due date)" if cfg.get("hidden_visibility") == "after_due_date" else ")")
            else:
                out += f"\n{p['status']}: {p.get('message', '')}"
                for label, text in (p.get("counterexample") or {}).items():
                    if text:
                        out += f"\n{label:>8}: {text}"
    max_score = round(max_score, 4)
    test = {"name": f"{k}: {p['name']}", "number": str(number), "score": max_score if ok else 0.0,
            "max_score": max_score, "status": "passed" if ok else "failed", "output": out,
            "visibility": "visible", "tags": [k]}
    if hidden(hide, k, p["name"]):
        test["visibility"] = cfg.get("hidden_visibility", "after_published")
    return test


# ---- the bundle -------------------------------------------------------------------------------
SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image (as root).
set -euo pipefail
apt-get update -q && apt-get install -y -q python3 python3-pip python3-venv >/dev/null
python3 -m venv /opt/kata
{torch}/opt/kata/bin/pip install -q /autograder/source/kata
# The hidden suites and reference solutions: root only (attempts run as an unprivileged uid).
SITE=$(/opt/kata/bin/python -c 'import checker, os; print(os.path.dirname(os.path.dirname(checker.__file__)))')
chmod -R go-rwx "$SITE/solutions" "$SITE"/katas/*/suite.py 2>/dev/null || true
find "$SITE/katas" -name __pycache__ -path '*/katas/*' -exec chmod -R go-rwx {{}} + 2>/dev/null || true
chmod -R go-rwx /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission (as root); results.json is written by the checker.
set -uo pipefail
cd /autograder
/opt/kata/bin/kata gradescope run --config /autograder/source/kata_autograder.json \\
  --submission /autograder/submission --results /autograder/results/results.json
"""


def bundle(out: Path, names: list[str], seed=0, hide=(), root=None,
           hidden_visibility="after_published") -> list[str]:
    catalog = Catalog(root)
    if not names:
        raise GradeError("--katas names at least one kata")
    katas = resolve_katas(catalog, names)
    src = catalog.root
    project = Path(__file__).resolve().parent.parent
    torch = any("torch" in " ".join(k.preload) for k in katas)
    files: dict[str, bytes | Path] = {
        "setup.sh": SETUP_SH.format(torch=(
            "/opt/kata/bin/pip install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu\n"
            if torch else "")).encode(),
        "run_autograder": RUN_AUTOGRADER.encode(),
        CONFIG: json.dumps({"katas": [k.id for k in katas], "seed": seed, "hide": list(hide),
                            "hidden_visibility": hidden_visibility}, indent=1).encode(),
    }
    pyproject = (src / "pyproject.toml") if (src / "pyproject.toml").exists() else project / "pyproject.toml"
    files["kata/pyproject.toml"] = pyproject
    for p in sorted((project / "checker").rglob("*.py")):
        if "__pycache__" not in p.parts:
            files[f"kata/checker/{p.relative_to(project / 'checker')}"] = p
    for base, sub in (("katas", "_shared"),):
        d = src / base / sub
        if d.is_dir():
            for p in sorted(d.rglob("*.py")):
                files[f"kata/{base}/{p.relative_to(src / base)}"] = p
    init = src / "katas" / "__init__.py"
    files["kata/katas/__init__.py"] = init if init.exists() else b""
    order = src / "katas" / "order.toml"
    if order.exists():
        files["kata/katas/order.toml"] = order
    for k in katas:
        for p in sorted(k.folder.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                files[f"kata/katas/{k.id}/{p.relative_to(k.folder)}"] = p
        for p in sorted(k.solutions.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                files[f"kata/solutions/{k.id}/{p.relative_to(k.solutions)}"] = p
    readme = project / "README.md"
    files["kata/README.md"] = readme if readme.exists() else b"kata\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content if isinstance(content, bytes) else content.read_bytes())
    return sorted(files)
