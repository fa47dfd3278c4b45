"""The grader's own failure is never a student's grade (root only: the sandbox's mount namespace).

A Python environment under /tmp (a virtual environment a CI job makes in a temporary folder) must
grade exactly like one elsewhere; a broken environment stops the run before anyone is graded (the
canary); an engine failure on one pair leaves it ungraded, never 0.
"""
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest


PROJECT = Path(__file__).resolve().parents[2]
KATA = "robbins_monro"  # numpy, with a harness: what broke under /tmp (numpy.random, imported lazily)
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="grading as root (mount namespaces)")


def _site_dirs():
    dirs = [p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]
    return dirs or [sysconfig.get_paths()["purelib"]]


def make_env(base: Path, broken: bool = False) -> Path:
    """A virtual environment under `base` whose packages are links to this interpreter's (no
    download, no copy): as far as imports go, the environment lives under `base`. broken: its
    numpy fails to import."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")], check=True)
    python = base / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    for d in _site_dirs():
        for entry in sorted(Path(d).iterdir()):
            name = entry.name
            if (site / name).exists() or name.endswith(".pth") or name.startswith(("kata", "__editable__", "_kata")):
                continue
            if broken and name == "numpy":
                (site / "numpy").mkdir()
                (site / "numpy" / "__init__.py").write_text("raise ImportError('numpy is broken in this environment')\n")
                continue
            (site / name).symlink_to(entry)
    (site / "kata-project.pth").write_text(f"{PROJECT}\n")
    return python


def make_class(base: Path) -> Path:
    subs = base / "subs"
    sol = PROJECT / "solutions" / KATA
    reference = (sol / "reference.py").read_text()
    # dee imports, once sandboxed, a package of the environment the worker has not loaded yet.
    for student, text in {"ann": reference, "ben": (PROJECT / "katas" / KATA / "stub.py").read_text(),
                          "dee": "import hypothesis.strategies  # noqa: F401\n" + reference}.items():
        (subs / student).mkdir(parents=True)
        (subs / student / f"{KATA}.py").write_text(text)
    (subs / "cid").mkdir()  # no file
    return subs


def grade_with(python, subs: Path, out: Path, cwd: Path):
    return subprocess.run([str(python), "-m", "checker", "grade", str(subs), "--out", str(out), "--katas", KATA,
                           "--no-progress"], cwd=cwd, capture_output=True, text=True, timeout=600)


def comparable(out: Path) -> tuple[str, str]:
    grades = re.sub(r"\d+(\.\d+)? s\b", "<t> s", (out / "grades.json").read_text())
    return (out / "gradebook.csv").read_text(), grades


def test_an_environment_under_tmp_grades_like_one_elsewhere(tmp_path):
    assert str(tmp_path).startswith("/tmp/")
    subs = make_class(tmp_path)
    elsewhere = grade_with(sys.executable, subs, tmp_path / "out-elsewhere", tmp_path)
    under_tmp = grade_with(make_env(tmp_path / "env"), subs, tmp_path / "out-tmp", tmp_path)
    assert elsewhere.returncode == 0, elsewhere.stdout + elsewhere.stderr
    assert under_tmp.returncode == 0, under_tmp.stdout + under_tmp.stderr
    book, _ = comparable(tmp_path / "out-tmp")
    # ann and dee both hand in the reference: graded 100 each, and flagged similar to each other
    assert ("ann,100,100,robbins_monro:similar:dee," in book and "ben,0,0,," in book
            and "dee,100,100,robbins_monro:similar:ann," in book), book
    assert comparable(tmp_path / "out-tmp") == comparable(tmp_path / "out-elsewhere")


def test_a_broken_environment_stops_the_run_with_the_canary(tmp_path):
    subs = make_class(tmp_path)
    r = grade_with(make_env(tmp_path / "env", broken=True), subs, tmp_path / "out", tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    first = r.stdout.strip().splitlines()[0]
    assert f"the reference of {KATA} does not score 100 in the grading sandbox" in first, r.stdout
    assert "numpy is broken in this environment" in r.stdout  # the engine-side traceback
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()
    journal = tmp_path / "out" / ".state" / "journal.jsonl"
    assert not journal.exists() or not any(json.loads(line)["kind"] == "graded" for line in journal.open())
