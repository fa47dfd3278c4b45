"""The learner's workspace: attempt files, progress, hints seen, and the example database.

    <workspace>/<kata>.py          the attempt (`kata start` copies the stub here)
    <workspace>/.kata/state.json   best score, attempts and hints seen, per kata; the kata last
                                   started or checked ("_last", the default of `kata watch`)
    <workspace>/.kata/examples/    hypothesis's example database: failures replay first next time

The workspace is `--workspace DIR`, else $KATA_WORKSPACE, else ./kata-workspace.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

DEFAULT = "kata-workspace"


def locate(option: str | None) -> Path:
    return Path(option or os.environ.get("KATA_WORKSPACE") or DEFAULT).expanduser().resolve()


class Workspace:
    def __init__(self, path: Path):
        self.path = path
        self.meta = path / ".kata"

    def attempt(self, kata) -> Path:
        return self.path / kata.filename

    def database(self):
        from hypothesis.database import DirectoryBasedExampleDatabase
        return DirectoryBasedExampleDatabase(str(self.meta / "examples"))

    # ---- state ---------------------------------------------------------------------------
    def state(self) -> dict:
        try:
            data = json.loads((self.meta / "state.json").read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}  # a missing or damaged state file only loses progress display, never work

    def _save(self, state: dict):
        self.meta.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.meta, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, indent=1, sort_keys=True)
        os.replace(tmp, self.meta / "state.json")  # atomic: an interrupted save keeps the old file

    def record(self, kata_id: str, score: float):
        state = self.state()
        entry = state.setdefault(kata_id, {})
        entry["attempts"] = entry.get("attempts", 0) + 1
        entry["best"] = max(entry.get("best", 0), score)
        entry["last"] = score
        state["_last"] = kata_id
        self._save(state)

    def last_kata(self) -> str | None:
        """The kata last started or checked here."""
        last = self.state().get("_last")
        return last if isinstance(last, str) else None

    def solved(self, kata_id: str) -> bool:
        entry = self.state().get(kata_id, {})
        return isinstance(entry, dict) and entry.get("best") == 100

    def next_kata(self, katas):
        """The first kata (in the order given: the catalogue's) not solved yet, or None."""
        return next((k for k in katas if not self.solved(k.id)), None)

    def note_solution_forced(self, kata_id: str):
        """`kata solution --force` before solving: kept, so a teacher or the learner sees it."""
        state = self.state()
        entry = state.setdefault(kata_id, {})
        entry["solution_forced"] = entry.get("solution_forced", 0) + 1
        self._save(state)

    def next_hint(self, kata_id: str, total: int) -> int:
        """Index of the hint to show now (one more each call, staying on the last)."""
        state = self.state()
        entry = state.setdefault(kata_id, {})
        seen = entry.get("hints", 0)
        index = min(seen, total - 1)
        entry["hints"] = min(seen + 1, total)
        self._save(state)
        return index

    def status(self, kata) -> str:
        entry = self.state().get(kata.id, {})
        entry = entry if isinstance(entry, dict) else {}
        if entry.get("best") == 100:
            return "solved"
        if "best" in entry:
            return f"best {entry['best']:g}"
        if self.attempt(kata).exists():
            return "started"
        return "not started"

    def start(self, kata, force: bool) -> Path:
        target = self.attempt(kata)
        if target.exists() and not force:
            raise FileExistsError(target)
        self.path.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.copy2(target, target.with_suffix(".py.bak"))  # --force still keeps the old work
        shutil.copyfile(kata.stub, target)
        state = self.state()
        state["_last"] = kata.id
        self._save(state)
        return target
