"""Gradescope: grade one submission as an autograder, and build the autograder bundle.

results.json follows Gradescope's autograder specification: top-level score, execution_time,
output, visibility, stdout_visibility and tests[], one test per property with name, score,
max_score, status, output, visibility, number and tags. The score is computed by the checker from
the reports; nothing the submission prints or writes is read (stdout is hidden from students).
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
import zipfile
from pathlib import Path

from checker.catalog import Catalog
from checker.grade import GradeError, Options, hidden, resolve_katas
from checker.grade import run as grade_run

CONFIG = "kata_autograder.json"
STUDENT = "submission"


def load_config(path: Path | None) -> dict:
    cfg = {"katas": None, "seed": 0, "hide": [], "hidden_visibility": "after_published", "points": None}
    if path is not None:
        try:
            cfg.update(json.loads(Path(path).read_text()))
        except (OSError, ValueError) as exc:
            raise GradeError(f"cannot read the autograder config {path}: {exc}") from None
    return cfg


def find_file(submission: Path, name: str) -> Path | None:
    """The shallowest regular file called `name` (Gradescope keeps uploaded folders)."""
    best = None
    for dirpath, dirnames, filenames in os.walk(submission, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        if name in filenames:
            p = Path(dirpath) / name
            if stat.S_ISREG(os.lstat(p).st_mode):
                depth = len(p.relative_to(submission).parts)
                if best is None or depth < best[0]:
                    best = (depth, p)
    return best[1] if best else None


def run(submission: Path, results: Path, cfg: dict, root=None) -> dict:
    t0 = time.perf_counter()
    if not submission.is_dir():
        raise GradeError(f"submission folder {submission} does not exist")
    katas = resolve_katas(Catalog(root), cfg.get("katas"))
    work = Path(tempfile.mkdtemp(prefix="kata-gradescope-"))
    try:
        student = work / "in" / STUDENT
        student.mkdir(parents=True)
        for k in katas:
            f = find_file(submission, k.filename)
            if f is not None:
                shutil.copyfile(f, student / k.filename)
        opts = Options(submissions=work / "in", out=work / "out", katas=[k.id for k in katas],
                       seed=int(cfg.get("seed", 0)), jobs=1, hide=list(cfg.get("hide", [])),
                       root=root, progress=False)
        grade_run(opts)
        grades = json.loads((work / "out" / "grades.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    data = to_results(grades, cfg, time.perf_counter() - t0)
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_name(results.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, results)
    return data


def to_results(grades: dict, cfg: dict, seconds: float) -> dict:
    entry = grades["students"][STUDENT]
    hide = cfg.get("hide", [])
    points = cfg.get("points") or {}
    tests, lines, number = [], [], 0
    for k, info in grades["katas"].items():
        rep = entry["reports"][k]
        kata_points = float(points.get(k, 100) if isinstance(points, dict) else 100)
        props = rep.get("properties") or [{"name": n, "weight": w, "status": "error", "description": "",
                                           "message": ""} for n, w in info.get("properties", [])]
        total_w = sum(p["weight"] for p in props) or 1
        problem = rep.get("problem")
        lines.append(f"{k}: {rep.get('score', 0):g}/100" + (f" ({problem})" if problem else ""))
        for p in props:
            number += 1
            max_score = round(kata_points * p["weight"] / total_w, 4)
            ok = p["status"] == "pass"
            if problem == "missing":
                out = f"No file {k}.py was found in the submission."
            elif problem:
                out = f"Not graded: {problem}."
            elif rep.get("error"):
                out = "The file could not be loaded:\n" + rep["error"]
            else:
                out = p.get("description", "")
                if not ok:
                    if hidden(hide, k, p["name"]):
                        out += f"\n{p['status']} (details hidden)"
                    else:
                        out += f"\n{p['status']}: {p.get('message', '')}"
                        for label, text in (p.get("counterexample") or {}).items():
                            if text:
                                out += f"\n{label:>8}: {text}"
            test = {"name": f"{k}: {p['name']}", "number": str(number), "score": max_score if ok else 0.0,
                    "max_score": max_score, "status": "passed" if ok else "failed", "output": out,
                    "visibility": "visible", "tags": [k]}
            if hidden(hide, k, p["name"]):
                test["visibility"] = cfg.get("hidden_visibility", "after_published")
            tests.append(test)
    score = round(sum(t["score"] for t in tests), 4)
    flags = entry.get("flags", [])
    output = "\n".join(lines) + (f"\nflags: {'; '.join(flags)}" if flags else "")
    return {"score": score, "execution_time": int(round(seconds)), "output": output,
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


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


def bundle(out: Path, names: list[str], seed=0, hide=(), root=None) -> list[str]:
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
                            "hidden_visibility": "after_published"}, indent=1).encode(),
    }
    pyproject = (src / "pyproject.toml") if (src / "pyproject.toml").exists() else project / "pyproject.toml"
    files["kata/pyproject.toml"] = pyproject
    for p in sorted((project / "checker").glob("*.py")):
        files[f"kata/checker/{p.name}"] = p
    for base, sub in (("katas", "_shared"),):
        d = src / base / sub
        if d.is_dir():
            for p in sorted(d.rglob("*.py")):
                files[f"kata/{base}/{p.relative_to(src / base)}"] = p
    init = src / "katas" / "__init__.py"
    files["kata/katas/__init__.py"] = init if init.exists() else b""
    for k in katas:
        for p in sorted(k.folder.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                files[f"kata/katas/{k.id}/{p.relative_to(k.folder)}"] = p
        for p in sorted(k.solutions.rglob("*.py")):
            if "__pycache__" not in p.parts:
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
