"""The journal: one JSON line per finished (student, kata), fsynced, so a run can resume and
shards can be merged. The last line for a pair wins; a line cut by a crash is ignored (that
pair is simply graded again)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from checker.grading.records import Record, record_from_json, to_json

STATE = ".state"
JOURNAL = "journal.jsonl"
META = "meta.json"


def read(out: Path) -> dict:
    """{(student, kata): record} from out/.state/journal.jsonl (empty if there is none)."""
    done = {}
    path = out / STATE / JOURNAL
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                rec = record_from_json(json.loads(line))
            except ValueError:
                continue
            done[rec.key] = rec
    return done


def write_meta(out: Path, meta: dict):
    (out / STATE).mkdir(parents=True, exist_ok=True)
    (out / STATE / META).write_text(json.dumps(meta, indent=1, sort_keys=True))


def read_meta(folder: Path) -> dict:
    return json.loads((folder / STATE / META).read_text())


class Journal:
    def __init__(self, out: Path, mode: str = "a"):
        (out / STATE).mkdir(parents=True, exist_ok=True)
        self.f = open(out / STATE / JOURNAL, mode, encoding="utf-8")

    def add(self, rec: Record):
        self.f.write(json.dumps(to_json(rec), sort_keys=True) + "\n")
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
