"""Classroom grading: every (student, kata) of a submissions tree, isolated, reproducible, resumable.

    SUBMISSIONS/<student>/<kata>.py  ->  OUT/gradebook.csv, grades.json, feedback/<student>.md,
                                         timings.csv, .state/ (journal for resume and merge)

Each check runs through the engine (runner.check) in a grading slot process; the attempt runs in a
worker forked from that slot's zygote (checker.zygote) inside a sandbox (checker.proxy.Sandbox):
never in a grading process, never next to another student's code. Scores come only from the
reports the checker computes. Everything written to OUT except timings.csv is a pure function of
(submissions, katas, seed), so two runs, any --jobs, or merged shards give identical files.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import pwd
import shutil
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from checker import __version__
from checker.catalog import Catalog, KataError

MAX_FILE_BYTES = 1 << 20
STATE = ".state"
JOURNAL = "journal.jsonl"


class GradeError(Exception):
    """A problem with the grader's input (shown without a traceback, exit code 2)."""


# ---- identities -------------------------------------------------------------------------------
def engine_version() -> str:
    """The package version plus a hash of the engine's source: a grade names the code that made it."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for p in sorted(here.glob("*.py")):
        if not p.name.startswith(("cli", "grade", "gradescope")):  # presentation, not verdicts
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


# ---- configuration ----------------------------------------------------------------------------
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


@dataclass
class Task:
    student: str
    kata: str
    staged: str | None      # root-only copy of the submission, None when missing or refused
    sha: str | None
    problem: str | None     # why the file was not graded (missing, symlink, too large)
    planted: bool = False   # the student's folder holds files that configure test tools


# Files that configure pytest or the interpreter: harmless here (only <kata>.py is ever copied to a
# worker), but planting one in a submission is an attempt to game a grader, so it is flagged.
PLANTED = {"conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "sitecustomize.py",
           "usercustomize.py", "pyproject.toml"}


def planted_files(folder: Path) -> bool:
    try:
        return any(p.name in PLANTED or p.suffix == ".pth" for p in folder.iterdir())
    except OSError:
        return False


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
    students = sorted(p.name for p in submissions.iterdir()
                      if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    if not students:
        raise GradeError(f"no student folders in {submissions} (expected SUBMISSIONS/<student>/<kata>.py)")
    return students


def stage(submissions: Path, student: str, kata_id: str, staging: Path) -> Task:
    """A root-only private copy of one submission file, refusing symlinks and special files
    (a symlink to solutions/ would otherwise be copied, by the grader, as the student's work)."""
    src = submissions / student / f"{kata_id}.py"
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        return Task(student, kata_id, None, None, "missing")
    except OSError as exc:
        return Task(student, kata_id, None, None, f"unreadable ({exc.strerror})")
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        return Task(student, kata_id, None, None, "not a regular file (symlinks are refused)")
    if st.st_size > MAX_FILE_BYTES:
        return Task(student, kata_id, None, None, f"larger than {MAX_FILE_BYTES} bytes")
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return Task(student, kata_id, None, None, f"unreadable ({exc.strerror})")
    sha = hashlib.sha256(data).hexdigest()
    dest = staging / sha[:2] / sha / f"{kata_id}.py"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return Task(student, kata_id, str(dest), sha, None, planted_files(submissions / student))


# ---- the journal: one JSON line per finished check, fsynced ----------------------------------
def read_journal(out: Path) -> dict:
    done = {}
    path = out / STATE / JOURNAL
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
                done[(rec["student"], rec["kata"])] = rec
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a crash: that check is simply graded again
    return done


class Journal:
    def __init__(self, out: Path):
        (out / STATE).mkdir(parents=True, exist_ok=True)
        self.f = open(out / STATE / JOURNAL, "a", encoding="utf-8")

    def add(self, rec: dict):
        self.f.write(json.dumps(rec, sort_keys=True) + "\n")
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self):
        self.f.close()


# ---- one grading slot (a process of its own) ---------------------------------------------------
_slot: dict = {}


def _slot_init(slots, root, uid_base, threads, hide):
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and keeps the journal
    try:  # the grader died (kill -9): the slot and, through the socket, its zygotes follow
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    index = slots.get()
    root_user = os.geteuid() == 0
    _slot.update(catalog=Catalog(root), index=index, threads=threads, hide=hide, zygotes={},
                 uid=(uid_base + index) if root_user else None)


def _zygote(preload):
    from checker.zygote import Zygote
    key = tuple(preload)
    z = _slot["zygotes"].get(key)
    if z is None or not z.alive():
        z = Zygote(preload, threads=_slot["threads"])
        _slot["zygotes"][key] = z
    return z


def grade_task(student, kata_id, staged, seed):
    """Run in a slot: one check, returned as plain JSON (report without timings) + seconds."""
    from checker import runner
    from checker.proxy import Sandbox
    from checker.zygote import ZygoteError
    kata = _slot["catalog"].get(kata_id)
    uid = _slot["uid"]
    last = None
    for _ in range(2):  # a zygote that died (OOM killer, ...) is restarted once
        try:
            sb = Sandbox(_zygote(kata.preload), uid=uid, gid=uid, hide=list(_slot["hide"]))
            t0 = time.perf_counter()
            report = runner.check(_slot["catalog"], kata, Path(staged), seed=seed, database=None, sandbox=sb)
            wall = time.perf_counter() - t0
            break
        except ZygoteError as exc:
            last = exc
            _slot["zygotes"].pop(tuple(kata.preload), None)
    else:
        return {"engine_error": f"the sandbox failed: {last}"}
    data = report.to_json()
    data["attempt"] = f"{student}/{kata_id}.py"
    prop_seconds = sum(p.pop("seconds", 0.0) for p in data["properties"])
    data.pop("seconds", None)
    return {"report": data, "seconds": round(wall, 3), "property_seconds": round(prop_seconds, 3),
            "slot": _slot["index"]}


# ---- the whole run ------------------------------------------------------------------------------
@dataclass
class Result:
    out: Path
    students: list[str]
    graded: int = 0
    reused: int = 0
    not_graded: list = field(default_factory=list)
    wall: float = 0.0
    isolation: str = ""
    uid_base: int = 0


def isolation_level(uid_base, jobs) -> str:
    if os.geteuid() != 0:
        return ("not root: attempts run as the grader's own user (no uid separation, no mount "
                "namespace); session, rlimits, scratch dir, scrubbed env and process sweep only")
    return f"root: attempts run as uids {uid_base}..{uid_base + jobs - 1} in private mount namespaces"


_locks: list = []


def claim_uids(uid_base, jobs) -> int:
    """Lock a block of slot uids for this run (two graders on one machine sharing a uid would
    kill each other's workers); the next free block if the asked one is busy."""
    import fcntl
    if os.geteuid() != 0:
        return uid_base
    lockdir = Path("/run/kata-grade") if Path("/run").is_dir() else Path("/var/lock/kata-grade")
    lockdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for attempt in range(64):
        base = uid_base + attempt * jobs
        check_uids(base, jobs)
        held = []
        for uid in range(base, base + jobs):
            f = open(lockdir / f"uid-{uid}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(f)
            except OSError:
                f.close()
                break
        if len(held) == jobs:
            _locks.extend(held)
            return base
        for f in held:
            f.close()
    raise GradeError("no free block of slot uids; is another kata grade running? try --uid-base")


def check_uids(uid_base, jobs):
    if os.geteuid() != 0:
        return
    for uid in range(uid_base, uid_base + jobs):
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            continue
        raise GradeError(f"uid {uid} belongs to user {name!r}; grading kills every process of its "
                         "slot uids, so choose unused ones with --uid-base")
    if uid_base < 1000 or uid_base + jobs > 65534:
        raise GradeError("--uid-base must leave the slot uids within 1000..65533")


def run(opts: Options, console=None) -> Result:
    catalog = Catalog(opts.root)
    katas = resolve_katas(catalog, opts.katas)
    submissions = opts.submissions.resolve()
    students_all = discover(submissions)
    out = opts.out.resolve()
    if out == submissions or str(out).startswith(str(submissions) + os.sep):
        raise GradeError("--out must not be inside the submissions folder")
    if opts.jobs < 1:
        raise GradeError("--jobs must be at least 1")
    uid_base = claim_uids(opts.uid_base, opts.jobs)
    i, n = opts.shard
    students = [s for s in students_all if shard_of(s, n) == i]
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)  # outputs are for the instructor only
    (out / STATE).mkdir(exist_ok=True)
    versions = {k.id: k.version() for k in katas}
    engine = engine_version()
    meta = {"seed": opts.seed, "katas": [k.id for k in katas], "versions": versions,
            "engine": engine, "shard": [i, n], "students": students, "hide": sorted(opts.hide)}
    result = Result(out, students, isolation=isolation_level(uid_base, opts.jobs), uid_base=uid_base)
    t_start = time.perf_counter()

    staging = Path(tempfile.mkdtemp(prefix="kata-grade-staging-"))  # 0700, root-only when root
    try:
        tasks = [stage(submissions, s, k.id, staging) for s in students for k in katas]
        done = {} if opts.fresh else read_journal(out)
        seeds = {k.id: kata_seed(opts.seed, k.id) for k in katas}
        todo, records = [], {}
        for t in tasks:
            prev = done.get((t.student, t.kata))
            if t.staged is None:
                records[(t.student, t.kata)] = {"student": t.student, "kata": t.kata, "problem": t.problem}
            elif (prev and prev.get("sha") == t.sha and prev.get("seed") == seeds[t.kata]
                  and prev.get("version") == versions[t.kata] and prev.get("engine") == engine
                  and "report" in prev):
                records[(t.student, t.kata)] = prev
                result.reused += 1
            else:
                todo.append(t)
        (out / STATE / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        hide = [str(out), str(submissions), str(staging)]
        _execute(todo, seeds, versions, engine, opts, out, records, result, hide, console, uid_base)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        while _locks:
            _locks.pop().close()
    result.wall = time.perf_counter() - t_start
    write_outputs(out, meta, students, katas_meta(katas, versions, seeds), records, opts.hide)
    return result


def katas_meta(katas, versions, seeds):
    from checker import runner
    from checker.suite import collect
    info = {}
    for k in katas:
        try:
            props = collect(runner.load_module(k.suite, f"kata_suite_{k.id}"))
            names = [[p.name, p.weight] for p in props]
        except Exception:  # noqa: BLE001 - names are informative only
            names = []
        info[k.id] = {"version": versions[k.id], "seed": seeds[k.id], "title": k.title,
                      "properties": names}
    return info


def _execute(todo, seeds, versions, engine, opts, out, records, result, hide, console, uid_base):
    if not todo:
        return
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("spawn")
    slots = ctx.Queue()
    jobs = min(opts.jobs, len(todo))
    for s in range(jobs):
        slots.put(s)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    journal = Journal(out)
    progress = _Progress(len(todo), opts.progress, console)
    pool = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_slot_init,
                               initargs=(slots, opts.root, uid_base, threads, hide))
    # Heavy katas first, so the last minutes are not one long torch check on one core.
    todo = sorted(todo, key=lambda t: (not _heavy(t.kata, opts.root), t.student, t.kata))
    pending = {}
    try:
        it = iter(todo)
        for t in it:
            pending[pool.submit(grade_task, t.student, t.kata, t.staged, seeds[t.kata])] = t
            if len(pending) >= jobs * 2:
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                t = pending.pop(fut)
                try:
                    got = fut.result()
                except Exception as exc:  # noqa: BLE001 - a slot died: not graded, retried on resume
                    got = {"engine_error": f"{type(exc).__name__}: {exc}"}
                if "engine_error" in got:
                    result.not_graded.append((t.student, t.kata, got["engine_error"]))
                    records[(t.student, t.kata)] = {"student": t.student, "kata": t.kata,
                                                    "problem": "not graded (engine error; run again to retry)"}
                else:
                    if t.planted:
                        got["report"]["flags"] = sorted(set(got["report"]["flags"]) | {"planted-files"})
                    rec = {"student": t.student, "kata": t.kata, "sha": t.sha, "seed": seeds[t.kata],
                           "version": versions[t.kata], "engine": engine, **got}
                    journal.add(rec)
                    records[(t.student, t.kata)] = rec
                    result.graded += 1
                progress.advance(f"{t.student}/{t.kata}")
                nxt = next(it, None)
                if nxt is not None:
                    pending[pool.submit(grade_task, nxt.student, nxt.kata, nxt.staged, seeds[nxt.kata])] = nxt
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        progress.stop()
        journal.close()
        pool.shutdown(wait=True, cancel_futures=True)


_heavy_cache: dict = {}


def _heavy(kata_id, root):
    if kata_id not in _heavy_cache:
        _heavy_cache[kata_id] = bool(Catalog(root).get(kata_id).preload)
    return _heavy_cache[kata_id]


class _Progress:
    def __init__(self, total, enabled, console):
        self.bar = None
        if enabled:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)
            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.description}"),
                                console=console, transient=False)
            self.task = self.bar.add_task("", total=total)
            self.bar.start()

    def advance(self, what):
        if self.bar:
            self.bar.update(self.task, advance=1, description=what)

    def stop(self):
        if self.bar:
            self.bar.stop()
            self.bar = None


# ---- outputs ------------------------------------------------------------------------------------
def hidden(hide, kata, prop) -> bool:
    return f"{kata}.{prop}" in hide or prop in hide or f"{kata}.*" in hide


def student_rows(students, kata_ids, records):
    rows = []
    for s in students:
        scores, flags, missing, problems = {}, [], [], []
        for k in kata_ids:
            rec = records.get((s, k), {"problem": "missing"})
            rep = rec.get("report")
            if rep is None:
                scores[k] = 0.0
                (missing if rec.get("problem") == "missing" else problems).append(k)
                if rec.get("problem") not in (None, "missing"):
                    flags.append(f"{k}:bad-file" if "regular" in rec["problem"] or "larger" in rec["problem"]
                                 else f"{k}:not-graded")
            else:
                scores[k] = float(rep["score"])
                flags += [f"{k}:{f}" for f in rep.get("flags", [])]
        total = round(sum(scores.values()), 1)
        rows.append({"student": s, "scores": scores, "total": total, "flags": flags, "missing": missing,
                     "problems": problems})
    return rows


def write_outputs(out: Path, meta: dict, students, katas_info: dict, records: dict, hide):
    """Every output but timings.csv is a function of the inputs only (same bytes every run)."""
    kata_ids = list(katas_info)
    rows = student_rows(students, kata_ids, records)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", *kata_ids, "total", "flags", "missing"])
    for r in rows:
        w.writerow([r["student"], *[f"{r['scores'][k]:g}" for k in kata_ids], f"{r['total']:g}",
                    "; ".join(r["flags"]), " ".join(r["missing"])])
    _atomic(out / "gradebook.csv", buf.getvalue())

    grades = {"engine": meta["engine"], "seed": meta["seed"], "katas": katas_info,
              "hidden_details": sorted(hide), "students": {}}
    for r in rows:
        s = r["student"]
        reports = {}
        for k in kata_ids:
            rec = records.get((s, k), {"problem": "missing"})
            reports[k] = rec.get("report") or {"kata": k, "score": 0, "problem": rec.get("problem")}
            if rec.get("sha"):
                reports[k]["sha256"] = rec["sha"]
        grades["students"][s] = {"total": r["total"], "flags": r["flags"], "missing": r["missing"],
                                 "reports": reports}
    _atomic(out / "grades.json", json.dumps(grades, indent=1, sort_keys=True) + "\n")

    fb = out / "feedback"
    fb.mkdir(exist_ok=True)
    for r in rows:
        _atomic(fb / f"{r['student']}.md", feedback_markdown(r, kata_ids, katas_info, records, hide))

    tbuf = io.StringIO()
    tw = csv.writer(tbuf, lineterminator="\n")
    tw.writerow(["student", "kata", "check_seconds", "property_seconds"])
    for s in students:
        for k in kata_ids:
            rec = records.get((s, k), {})
            if "seconds" in rec:
                tw.writerow([s, k, rec["seconds"], rec.get("property_seconds", "")])
    _atomic(out / "timings.csv", tbuf.getvalue())


def feedback_markdown(row, kata_ids, katas_info, records, hide) -> str:
    s = row["student"]
    lines = [f"# Feedback for {s}", "", f"Total: **{row['total']:g}** / {100 * len(kata_ids)}", ""]
    for k in kata_ids:
        rec = records.get((s, k), {"problem": "missing"})
        rep = rec.get("report")
        title = katas_info[k].get("title", k)
        if rep is None:
            why = rec.get("problem")
            lines += [f"## {k} — {title}: 0/100", "",
                      f"No file `{k}.py` was found." if why == "missing" else f"Not graded: {why}.", ""]
            continue
        lines += [f"## {k} — {title}: {rep['score']:g}/100", ""]
        if rep.get("error"):
            lines += ["The file could not be loaded:", "", "```", rep["error"].rstrip(), "```", ""]
        for p in rep["properties"]:
            mark = "✓" if p["status"] == "pass" else "✗"
            lines.append(f"- {mark} **{p['name']}** ({p['weight']:g}) — {p['description']}"
                         + ("" if p["status"] == "pass" else f" — *{p['status']}*"))
        for p in rep["properties"]:
            if p["status"] == "pass" or rep.get("error"):
                continue
            lines += ["", f"### {p['name']}: {p['status']}"]
            if hidden(hide, k, p["name"]):
                lines += ["", "(details of this property are hidden)"]
                continue
            lines += ["", "```", (p.get("message") or "").rstrip()]
            ce = p.get("counterexample") or {}
            for label in ("input", "expected", "got"):
                if ce.get(label):
                    lines.append(f"{label:>8}: {ce[label]}")
            lines.append("```")
        lines.append("")
    return "\n".join(lines)


def _atomic(path: Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---- merge --------------------------------------------------------------------------------------
def merge(out: Path, shard_dirs: list[Path]) -> list[str]:
    """Combine shard outputs into one gradebook, identical to grading everything in one run."""
    metas = []
    for d in shard_dirs:
        try:
            metas.append((d, json.loads((d / STATE / "meta.json").read_text())))
        except (OSError, ValueError):
            raise GradeError(f"{d} is not a grading output folder (no {STATE}/meta.json)") from None
    base = metas[0][1]
    for d, m in metas[1:]:
        for key in ("seed", "katas", "versions", "engine", "hide"):
            if m.get(key) != base.get(key):
                raise GradeError(f"{d} was graded with a different {key} than {metas[0][0]}; "
                                 "shards must share seed, katas, kata versions and engine")
    n = base["shard"][1]
    got = sorted(m["shard"][0] for _, m in metas)
    if any(m["shard"][1] != n for _, m in metas) or got != list(range(1, n + 1)):
        raise GradeError(f"need exactly the shards 1..{n} once each; got {got} of "
                         f"{sorted({m['shard'][1] for _, m in metas})}")
    students = sorted(s for _, m in metas for s in m["students"])
    records = {}
    for d, _ in metas:
        records.update(read_journal(d))
    versions, katas = base["versions"], base["katas"]
    seeds = {k: kata_seed(base["seed"], k) for k in katas}
    records = {key: rec for key, rec in records.items()
               if key[0] in students and key[1] in katas and rec.get("engine") == base["engine"]
               and rec.get("version") == versions[key[1]]}
    # A missing or refused file has no journal line: say so as a single run would.
    for s in students:
        for k in katas:
            records.setdefault((s, k), {"problem": "missing"})
    info = {}
    for d, _ in metas:
        try:
            info = json.loads((d / "grades.json").read_text())["katas"]
            break
        except (OSError, ValueError, KeyError):
            continue
    info = info or {k: {"version": versions[k], "seed": seeds[k], "title": k, "properties": []} for k in katas}
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    (out / STATE).mkdir(exist_ok=True)
    meta = dict(base, shard=[1, 1], students=students)
    (out / STATE / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    with open(out / STATE / JOURNAL, "w", encoding="utf-8") as f:
        for key in sorted(records):
            if "report" in records[key]:
                f.write(json.dumps(records[key], sort_keys=True) + "\n")
    # Problems (refused files) are recovered from the shard's grades.json.
    for d, _ in metas:
        try:
            g = json.loads((d / "grades.json").read_text())["students"]
        except (OSError, ValueError, KeyError):
            continue
        for s, entry in g.items():
            for k, rep in entry.get("reports", {}).items():
                if "problem" in rep and (s, k) in records and "report" not in records[(s, k)]:
                    records[(s, k)] = {"problem": rep["problem"]}
    write_outputs(out, meta, students, info, records, base.get("hide", []))
    return students


# ---- summary ------------------------------------------------------------------------------------
def summary(out: Path, console):
    from rich.table import Table
    grades = json.loads((out / "grades.json").read_text())
    katas = list(grades["katas"])
    table = Table(title="score distribution per kata")
    for col in ("kata", "students", "100", "50–99", "1–49", "0", "missing", "mean"):
        table.add_column(col, justify="right" if col != "kata" else "left")
    for k in katas:
        scores, missing = [], 0
        for entry in grades["students"].values():
            if k in entry["missing"]:
                missing += 1
            scores.append(float(entry["reports"][k].get("score", 0)))
        buckets = [sum(s == 100 for s in scores), sum(50 <= s < 100 for s in scores),
                   sum(0 < s < 50 for s in scores), sum(s == 0 for s in scores)]
        mean = sum(scores) / len(scores) if scores else 0
        table.add_row(k, str(len(scores)), *map(str, buckets), str(missing), f"{mean:.1f}")
    console.print(table)
    flagged = [(s, e) for s, e in grades["students"].items() if e["flags"] or any(
        r.get("error") for r in e["reports"].values())]
    if flagged:
        t2 = Table(title="students with errors or flags")
        t2.add_column("student")
        t2.add_column("flags")
        t2.add_column("load errors")
        for s, e in flagged:
            errs = ", ".join(k for k, r in e["reports"].items() if r.get("error"))
            t2.add_row(s, "; ".join(e["flags"]), errs)
        console.print(t2)
