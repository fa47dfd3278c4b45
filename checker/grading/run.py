"""`kata grade` end to end: plan, stage, check every reference in the sandbox (the canary), grade
what changed, journal each result, write the outputs."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from checker.catalog import Catalog
from checker.grading import journal
from checker.grading.outputs import Book
from checker.grading.writers import write_all
from checker.grading.plan import (GradeError, Options, Plan, discover, effective_hide, resolve_katas,
                                  shard_of, split, stage_class)
from checker.grading.records import Graded, Submission, Ungraded
from checker.grading.slots import Job, SlotConfig, SlotPool, SlotResult
from checker.grading.summary import Progress
from checker.grading.uids import UidBlock, isolation_level


@dataclass
class Result:
    out: Path
    book: Book
    graded: int = 0
    reused: int = 0
    wall: float = 0.0
    isolation: str = ""
    uid_base: int = 0
    ungraded: list = field(default_factory=list)

    @property
    def students(self) -> list[str]:
        return self.book.students


def katas_info(plan: Plan) -> dict:
    """Per kata: version, seed, title and property names/weights (informative, for outputs)."""
    from checker import runner
    from checker.suite import collect
    info = {}
    for k in plan.katas:
        try:
            props = collect(runner.load_module(k.suite, f"kata_suite_{k.id}"))
            names = [[p.name, p.weight] for p in props]
        except Exception:  # noqa: BLE001 - names are informative only; the check reports the failure
            names = []
        info[k.id] = {"version": plan.versions[k.id], "seed": plan.seeds[k.id], "title": k.title,
                      "properties": names}
    return info


def record_of(plan: Plan, sub: Submission, result: SlotResult) -> Graded | Ungraded:
    if result.engine_error:
        return Ungraded(sub.student, sub.kata, result.engine_error)
    report = dict(result.report)
    if sub.planted:
        report["flags"] = sorted(set(report["flags"]) | {"planted-files"})
    return Graded(sub.student, sub.kata, plan.stamp(sub), report, result.seconds,
                  result.property_seconds, result.slot)


def grade(plan: Plan, todo: list[Submission], config: SlotConfig, jobs: int, on_record):
    """Check every reference in every slot's sandbox (CanaryFailed if one is not 100), then grade
    `todo`; on_record(record) for each pair as it finishes."""
    if not todo:
        return
    subs = {s.key: s for s in todo}
    heavy = {k.id: bool(k.preload) for k in plan.katas}
    # Heavy katas first, so the last minutes are not one long torch check on one core.
    order = sorted(todo, key=lambda s: (not heavy[s.kata], s.student, s.kata))
    pool = SlotPool(config, min(jobs, len(todo)))
    interrupted = True
    try:
        pool.canary([k for k in plan.katas if any(s.kata == k.id for s in todo)], plan.seeds)
        pool.run([Job(s.student, s.kata, s.staged, plan.seeds[s.kata]) for s in order],
                 lambda job, result: on_record(record_of(plan, subs[(job.student, job.kata)], result)))
        interrupted = False
    finally:
        pool.close(interrupted=interrupted)


def class_similarity(katas, submissions: Path, students: list[str]) -> list:
    """Pairs over the whole class (every shard computes the same list: it reads text only)."""
    from checker.similarity import class_pairs, read_sources
    pairs = []
    for k in katas:
        pairs += class_pairs(k.id, read_sources(submissions, students, k.id), k.stub.read_text())
    return pairs


def write_extra_formats(opts: Options, book: Book):
    from checker.grading.formats import write_canvas, write_junit
    if opts.junit:
        write_junit(opts.junit, book)
    if opts.canvas:
        write_canvas(opts.canvas, book)


def _check_options(opts: Options, submissions: Path, out: Path):
    if out == submissions or str(out).startswith(str(submissions) + os.sep):
        raise GradeError("--out must not be inside the submissions folder")
    if opts.jobs < 1:
        raise GradeError("--jobs must be at least 1")
    if out.exists() and not out.is_dir():
        raise GradeError(f"--out {out} exists and is not a folder")
    if not 0 < opts.similarity_threshold <= 1:
        raise GradeError("--similarity-threshold must be in (0, 1]")
    if opts.hidden_until is not None and not opts.hide:
        raise GradeError("--hidden-until needs --hide-details: it says until when those are hidden")
    for path in (opts.junit, opts.canvas):
        if path is not None and Path(path).is_dir():
            raise GradeError(f"{path} is a folder; give a file name")


def run(opts: Options, console=None) -> Result:
    t_start = time.perf_counter()
    katas = resolve_katas(Catalog(opts.root), opts.katas)
    submissions, out = opts.submissions.resolve(), opts.out.resolve()
    students = discover(submissions)
    _check_options(opts, submissions, out)
    i, n = opts.shard
    hide = effective_hide(opts.hide, opts.hidden_until)
    plan = Plan.make(katas, [s for s in students if shard_of(s, n) == i], opts.seed, opts.shard, hide)
    with UidBlock(opts.uid_base, opts.jobs) as uid_base:
        try:
            out.mkdir(parents=True, exist_ok=True)
            os.chmod(out, 0o700)  # outputs are for the instructor only
        except OSError as exc:
            raise GradeError(f"cannot write the output folder {out}: {exc.strerror}") from None
        previous = {} if opts.fresh else journal.read(out)
        staging = Path(tempfile.mkdtemp(prefix="kata-grade-staging-"))  # 0700, root-only when root
        try:
            records, todo = split(plan, stage_class(submissions, plan, staging), previous)
            journal.write_meta(out, plan.meta())
            slots = min(opts.jobs, max(1, len(todo)))
            config = SlotConfig(opts.root, uid_base, max(1, (os.cpu_count() or 1) // slots),
                                (str(out), str(submissions), str(staging)))
            result = Result(out, None, reused=len([r for r in records.values() if isinstance(r, Graded)]),
                            isolation=isolation_level(uid_base, opts.jobs), uid_base=uid_base)
            with journal.Journal(out) as jl:
                for key, rec in sorted(records.items()):
                    if previous.get(key) != rec:
                        jl.add(rec)  # refused files too: a merge reads every pair from the journals
                progress = Progress(len(todo), opts.progress, console)

                def finished(rec):
                    records[rec.key] = rec
                    jl.add(rec)
                    result.graded += isinstance(rec, Graded)
                    progress.advance(f"{rec.student}/{rec.kata}")
                try:
                    grade(plan, todo, config, opts.jobs, finished)
                finally:
                    progress.stop()
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    result.book = Book(plan.engine, plan.seed, plan.students, katas_info(plan), records, plan.hide,
                       class_similarity(katas, submissions, students), opts.similarity_threshold,
                       opts.hidden_until)
    result.ungraded = result.book.ungraded()
    write_all(out, result.book)
    write_extra_formats(opts, result.book)
    result.wall = time.perf_counter() - t_start
    return result
