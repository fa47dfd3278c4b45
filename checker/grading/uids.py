"""Slot uids when grading as root: slot i runs attempts as uid base + i, a block locked for the
run (two graders on one machine sharing a uid would kill each other's workers)."""
from __future__ import annotations

import fcntl
import os
import pwd
from pathlib import Path

from checker.grading.plan import GradeError

BLOCKS_TRIED = 64


def isolation_level(uid_base: int, jobs: int) -> str:
    if os.geteuid() != 0:
        return ("not root: attempts run as the grader's own user (no uid separation, no mount "
                "namespace); session, rlimits, scratch dir, scrubbed env and process sweep only")
    return f"root: attempts run as uids {uid_base}..{uid_base + jobs - 1} in private mount namespaces"


def check_uids(uid_base: int, jobs: int):
    if os.geteuid() != 0:
        return
    if uid_base < 1000 or uid_base + jobs > 65534:
        raise GradeError("--uid-base must leave the slot uids within 1000..65533")
    for uid in range(uid_base, uid_base + jobs):
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            continue
        raise GradeError(f"uid {uid} belongs to user {name!r}; grading kills every process of its "
                         "slot uids, so choose unused ones with --uid-base")


class UidBlock:
    """`with UidBlock(base, jobs) as base:` the first free block at or after `base` (root only;
    otherwise the grader's own uid is used and nothing is locked)."""

    def __init__(self, uid_base: int, jobs: int):
        self.uid_base, self.jobs = uid_base, jobs
        self._held: list = []

    def __enter__(self) -> int:
        if os.geteuid() != 0:
            return self.uid_base
        lockdir = Path("/run/kata-grade") if Path("/run").is_dir() else Path("/var/lock/kata-grade")
        lockdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for attempt in range(BLOCKS_TRIED):
            base = self.uid_base + attempt * self.jobs
            check_uids(base, self.jobs)
            if self._lock(lockdir, base):
                return base
        raise GradeError("no free block of slot uids; is another kata grade running? try --uid-base")

    def _lock(self, lockdir: Path, base: int) -> bool:
        for uid in range(base, base + self.jobs):
            f = open(lockdir / f"uid-{uid}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                self.__exit__()
                return False
            self._held.append(f)
        return True

    def __exit__(self, *exc):
        while self._held:
            self._held.pop().close()
