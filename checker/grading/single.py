"""Grade one submission folder in memory, as the platform adapters (Gradescope, PrairieLearn)
need: the same sandbox, canary and seeds as `kata grade`, a Book back, no files written."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from checker.catalog import Catalog
from checker.grading.outputs import Book
from checker.grading.plan import GradeError, Plan, resolve_katas, split, stage
from checker.grading.run import grade, katas_info
from checker.grading.slots import SlotConfig
from checker.grading.uids import UidBlock

STUDENT = "submission"
UID_BASE = 61000


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


def grade_submission(submission: Path, cfg: dict, root=None) -> Book:
    """Grade one submission folder with the grading API (same sandbox, canary and seeds as
    `kata grade`); the records stay in memory."""
    if not submission.is_dir():
        raise GradeError(f"submission folder {submission} does not exist")
    katas = resolve_katas(Catalog(root), cfg.get("katas"))
    plan = Plan.make(katas, [STUDENT], int(cfg.get("seed", 0)), hide=list(cfg.get("hide", [])))
    staging = Path(tempfile.mkdtemp(prefix="kata-single-"))
    try:
        subs = []
        for k in katas:
            found = find_file(submission, k.filename)
            subs.append(stage(found or submission / k.filename, STUDENT, k.id, staging))
        records, todo = split(plan, subs, {})
        with UidBlock(UID_BASE, 1) as uid_base:
            config = SlotConfig(root, uid_base, os.cpu_count() or 1, (str(submission.resolve()), str(staging)))
            grade(plan, todo, config, 1, lambda rec: records.__setitem__(rec.key, rec))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Book(plan.engine, plan.seed, plan.students, katas_info(plan), records, plan.hide)


