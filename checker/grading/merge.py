"""`kata grade-merge`: combine the --out folders of `kata grade --shard i/N` runs into the one
gradebook a single run would have written (every record comes from the shards' journals)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from checker.grading import journal
from checker.grading.outputs import Book, read_similarity_csv
from checker.grading.writers import write_all
from checker.grading.plan import GradeError, kata_seed
from checker.grading.records import Graded, Refused

MUST_AGREE = ("seed", "katas", "versions", "engine", "hide")


def _metas(shard_dirs):
    metas = []
    for d in shard_dirs:
        try:
            metas.append((d, journal.read_meta(d)))
        except (OSError, ValueError):
            raise GradeError(f"{d} is not a grading output folder (no {journal.STATE}/{journal.META})") from None
    base_dir, base = metas[0]
    for d, m in metas[1:]:
        for key in MUST_AGREE:
            if m.get(key) != base.get(key):
                raise GradeError(f"{d} was graded with a different {key} than {base_dir}; "
                                 "shards must share seed, katas, kata versions and engine")
    n = base["shard"][1]
    got = sorted(m["shard"][0] for _, m in metas)
    if any(m["shard"][1] != n for _, m in metas) or got != list(range(1, n + 1)):
        raise GradeError(f"need exactly the shards 1..{n} once each; got {got} of "
                         f"{sorted({m['shard'][1] for _, m in metas})}")
    return base, metas


def _katas_info(metas, base):
    for d, _ in metas:
        try:
            return json.loads((d / "grades.json").read_text())["katas"]
        except (OSError, ValueError, KeyError):
            continue
    return {k: {"version": base["versions"][k], "seed": kata_seed(base["seed"], k), "title": k,
                "properties": []} for k in base["katas"]}


def merge(out: Path, shard_dirs: list[Path]) -> Book:
    base, metas = _metas(shard_dirs)
    students = sorted(s for _, m in metas for s in m["students"])
    katas, versions = base["katas"], base["versions"]
    records = {}
    for d, _ in metas:
        for key, rec in journal.read(d).items():
            if key[0] in students and key[1] in katas:
                if isinstance(rec, Graded) and (rec.stamp.engine != base["engine"]
                                                or rec.stamp.version != versions[key[1]]):
                    continue  # graded by another engine or kata version: not part of this run
                records[key] = rec
    for s in students:
        for k in katas:
            records.setdefault((s, k), Refused(s, k, "missing"))
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    meta = dict(base, shard=[1, 1], students=students)
    journal.write_meta(out, meta)
    with journal.Journal(out, mode="w") as j:
        for key in sorted(records):
            j.add(records[key])
    book = Book(base["engine"], base["seed"], students, _katas_info(metas, base), records, base.get("hide", []),
                read_similarity_csv(metas[0][0]))
    write_all(out, book)
    return book
