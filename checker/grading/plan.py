"""What a grading run will do: its options, identities (engine version, seeds, shards), the staged
submissions, and which journaled grades it may reuse."""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from checker import __version__
from checker.catalog import Catalog, KataError
from checker.grading.records import Graded, Refused, Stamp, Submission

MAX_FILE_BYTES = 1 << 20
CHECKER_DIR = Path(__file__).resolve().parent.parent


class GradeError(Exception):
    """A problem with the grader's input (shown without a traceback, exit code 2)."""


@dataclass
class Options:
    submissions: Path
    out: Path
    katas: list[str] | None = None       # None: every kata in the catalog
    seed: int = 0
    jobs: int = 1
    shard: tuple[int, int] = (1, 1)
    hide: list[str] = field(default_factory=list)  # "kata.prop", "prop" or "kata.*": names only
    root: str | None = None              # catalog root (default: the installed katas)
    uid_base: int = 61000                # as root: slot i runs attempts as uid uid_base + i
    fresh: bool = False                  # ignore the journal (regrade everything)
    progress: bool = True
    hidden_until: str | None = None      # YYYY-MM-DD: `hide` applies before that day, not after
    similarity_threshold: float = 0.8    # pairs at or above it are flagged similar:<other>
    junit: Path | None = None            # also write JUnit XML here
    canvas: Path | None = None           # also write a Canvas gradebook CSV here


def effective_hide(hide: list[str], hidden_until: str | None, today=None) -> list[str]:
    """Properties shown by name only: all of `hide` until the date, none from that day on."""
    import datetime
    if hidden_until is None:
        return list(hide)
    try:
        until = datetime.date.fromisoformat(hidden_until)
    except ValueError:
        raise GradeError(f"--hidden-until takes a date as YYYY-MM-DD, not {hidden_until!r}") from None
    today = today or datetime.date.today()
    return list(hide) if today < until else []


# ---- identities -------------------------------------------------------------------------------
def engine_version() -> str:
    """The package version plus a hash of the engine's source: a grade names the code that made it.
    Presentation and orchestration (the CLI, grading/, gradescope) do not change verdicts."""
    h = hashlib.sha256()
    for p in sorted(CHECKER_DIR.glob("*.py")):
        if not p.name.startswith(("cli", "gradescope", "commands")):
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return f"{__version__}+{h.hexdigest()[:10]}"


def kata_seed(seed: int, kata_id: str) -> int:
    """One seed per kata, the same for every student: everyone faces the same generated cases."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{kata_id}".encode()).digest()[:4], "big") & 0x7FFFFFFF


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        return (1, 1)
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise GradeError(f"--shard takes i/N with 1 ≤ i ≤ N, e.g. 2/4 (got {text!r})") from None
    if not (n >= 1 and 1 <= i <= n):
        raise GradeError(f"--shard takes i/N with 1 ≤ i ≤ N, e.g. 2/4 (got {text!r})")
    return (i, n)


def shard_of(student: str, n: int) -> int:
    """1-based shard of a student: a hash, so adding a student never moves the others."""
    return int.from_bytes(hashlib.sha256(student.encode()).digest()[:8], "big") % n + 1


# ---- the run's fixed facts ----------------------------------------------------------------------
@dataclass
class Plan:
    """Everything the outputs and the journal need to know about the run, fixed before grading."""
    katas: list                          # catalog Kata objects, in order
    students: list[str]
    seed: int
    seeds: dict[str, int]
    versions: dict[str, str]
    engine: str
    shard: tuple[int, int] = (1, 1)
    hide: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, katas, students, seed, shard=(1, 1), hide=()):
        return cls(katas, list(students), seed, {k.id: kata_seed(seed, k.id) for k in katas},
                   {k.id: k.version() for k in katas}, engine_version(), tuple(shard), sorted(hide))

    @property
    def kata_ids(self) -> list[str]:
        return [k.id for k in self.katas]

    def stamp(self, sub: Submission) -> Stamp:
        return Stamp(sub.sha, self.seeds[sub.kata], self.versions[sub.kata], self.engine)

    def meta(self) -> dict:
        return {"seed": self.seed, "katas": self.kata_ids, "versions": self.versions,
                "engine": self.engine, "shard": list(self.shard), "students": self.students,
                "hide": self.hide}

    def reusable(self, sub: Submission, prev) -> bool:
        return isinstance(prev, Graded) and prev.stamp == self.stamp(sub)


def split(plan: Plan, subs: list[Submission], journal: dict) -> tuple[dict, list[Submission]]:
    """{key: record} for what needs no check (refused files, unchanged grades) and the to-do list."""
    records, todo = {}, []
    for sub in subs:
        if sub.staged is None:
            records[sub.key] = Refused(sub.student, sub.kata, sub.problem)
        elif plan.reusable(sub, journal.get(sub.key)):
            records[sub.key] = journal[sub.key]
        else:
            todo.append(sub)
    return records, todo


# ---- input ----------------------------------------------------------------------------------------
def resolve_katas(catalog: Catalog, names) -> list:
    try:
        if not names:
            katas = catalog.all()
            if not katas:
                raise GradeError(f"no katas found under {catalog.root}")
            return katas
        return [catalog.get(n) for n in names]
    except KataError as exc:
        raise GradeError(str(exc)) from None


def discover(submissions: Path) -> list[str]:
    if not submissions.is_dir():
        raise GradeError(f"submissions folder {submissions} does not exist or is not a folder "
                         "(expected SUBMISSIONS/<student>/<kata>.py)")
    try:
        students = sorted(p.name for p in submissions.iterdir()
                          if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    except OSError as exc:
        raise GradeError(f"cannot read the submissions folder {submissions}: {exc.strerror}") from None
    if not students:
        raise GradeError(f"no student folders in {submissions} (expected SUBMISSIONS/<student>/<kata>.py)")
    return students


# Files that configure pytest or the interpreter: harmless here (only <kata>.py is ever copied to a
# worker), but planting one in a submission is an attempt to game a grader, so it is flagged.
PLANTED = {"conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "sitecustomize.py",
           "usercustomize.py", "pyproject.toml"}


def planted_files(folder: Path) -> bool:
    try:
        return any(p.name in PLANTED or p.suffix == ".pth" for p in folder.iterdir())
    except OSError:
        return False


def stage(src: Path, student: str, kata_id: str, staging: Path) -> Submission:
    """A root-only private copy of one submission file, refusing symlinks and special files
    (a symlink to solutions/ would otherwise be copied, by the grader, as the student's work)."""
    def refused(why):
        return Submission(student, kata_id, None, None, why)
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        return refused("missing")
    except OSError as exc:
        return refused(f"unreadable ({exc.strerror})")
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        return refused("not a regular file (symlinks are refused)")
    if st.st_size > MAX_FILE_BYTES:
        return refused(f"larger than {MAX_FILE_BYTES} bytes")
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return refused(f"unreadable ({exc.strerror})")
    sha = hashlib.sha256(data).hexdigest()
    dest = staging / sha[:2] / sha / f"{kata_id}.py"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return Submission(student, kata_id, str(dest), sha, None, planted_files(src.parent))


def stage_class(submissions: Path, plan: Plan, staging: Path) -> list[Submission]:
    return [stage(submissions / s / k.filename, s, k.id, staging) for s in plan.students for k in plan.katas]
