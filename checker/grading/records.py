"""What grading knows about one (student, kata) pair: typed records, one class per outcome.

    Submission  a staged file (or why there is none), before grading
    Graded      the checker's report on it (journaled; reused on resume when nothing changed)
    Refused     no file to grade: missing, a symlink, too large, unreadable (scores 0)
    Ungraded    the engine failed on it (never a score: shown as "ungraded", retried on resume)

Records cross process boundaries (slot -> grader, journal lines) as plain JSON via to_json /
record_from_json.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Union

Key = tuple  # (student, kata)


class _Keyed:
    """A record of one (student, kata) pair: `key` is that pair, the journal's and the outputs' key."""
    student: str
    kata: str

    @property
    def key(self) -> Key:
        return (self.student, self.kata)


@dataclass(frozen=True)
class Submission(_Keyed):
    student: str
    kata: str
    staged: str | None      # the grader's private copy; None when refused
    sha: str | None
    problem: str | None     # why there is nothing to grade (see Refused)
    planted: bool = False   # the student's folder holds files that configure test tools


@dataclass(frozen=True)
class Stamp:
    """What a grade depends on besides the file: reuse a journaled grade only if all match."""
    sha: str
    seed: int
    version: str
    engine: str


@dataclass
class Graded(_Keyed):
    student: str
    kata: str
    stamp: Stamp
    report: dict                    # Report.to_json() without timings, plus "attempt"
    seconds: float = 0.0            # the check's wall time in its slot (timings.csv only)
    property_seconds: float = 0.0
    slot: int = 0

    kind = "graded"

    @property
    def score(self) -> float:
        return float(self.report["score"])

    @property
    def flags(self) -> list[str]:
        return list(self.report.get("flags", []))


@dataclass
class Refused(_Keyed):
    student: str
    kata: str
    problem: str                    # "missing" or why the file was refused

    kind = "refused"

    @property
    def missing(self) -> bool:
        return self.problem == "missing"


@dataclass
class Ungraded(_Keyed):
    student: str
    kata: str
    error: str                      # the engine's failure, for the instructor
    flags: list[str] = field(default_factory=list)

    kind = "ungraded"

    @property
    def summary(self) -> str:
        """The error's last line (the exception), for one-line listings."""
        lines = [ln for ln in self.error.strip().splitlines() if ln.strip()]
        return lines[-1].strip() if lines else "engine error"


Record = Union[Graded, Refused, Ungraded]


def to_json(rec: Record) -> dict:
    return {"kind": rec.kind, **asdict(rec)}


def record_from_json(data: dict) -> Record:
    """The inverse of to_json; ValueError for anything else (a line cut by a crash)."""
    if not isinstance(data, dict):
        raise ValueError("not a record")
    kind = data.get("kind")
    try:
        if kind == "graded":
            stamp = Stamp(**data["stamp"])
            return Graded(data["student"], data["kata"], stamp, dict(data["report"]),
                          float(data.get("seconds", 0)), float(data.get("property_seconds", 0)),
                          int(data.get("slot", 0)))
        if kind == "refused":
            return Refused(data["student"], data["kata"], str(data["problem"]))
        if kind == "ungraded":
            return Ungraded(data["student"], data["kata"], str(data["error"]), list(data.get("flags", [])))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed {kind} record: {exc}") from None
    raise ValueError(f"unknown record kind {kind!r}")
