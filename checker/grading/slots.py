"""Grading slots: N processes (--jobs), each with its own fork servers and slot uid, that run
checks through the engine; the grader hands each idle slot its next job.

A slot holds no module-global state: a Slot object lives in its process. Before any student is
graded, every slot checks each kata's reference in the very sandbox students get (the canary):
an environment that breaks the sandbox (a virtual environment the sandbox hides, a missing
library) stops the run instead of giving every student 0.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from checker.catalog import Catalog
from checker.grading.plan import GradeError

CANARY = "(reference)"
STOP_GRACE_S = 30


class CanaryFailed(GradeError):
    """A kata's reference does not score 100 in the grading sandbox: nothing is graded."""


@dataclass(frozen=True)
class SlotConfig:
    root: str | None          # catalog root
    uid: int | None           # slot i runs attempts as uid + i (root only)
    threads: int              # torch/BLAS threads of the fork servers
    hide: tuple[str, ...]     # more paths the attempts must not see (outputs, submissions, staging)


@dataclass(frozen=True)
class Job:
    student: str
    kata: str
    attempt: str              # the staged file
    seed: int


@dataclass
class SlotResult:
    report: dict | None = None        # Report.to_json() without timings
    engine_error: str | None = None   # the engine failed: no verdict
    seconds: float = 0.0
    property_seconds: float = 0.0
    slot: int = 0


# ---- inside a slot process ------------------------------------------------------------------------
class Slot:
    def __init__(self, index: int, config: SlotConfig):
        self.index = index
        self.config = config
        self.catalog = Catalog(config.root)
        self.uid = None if config.uid is None or os.geteuid() != 0 else config.uid + index
        self.zygotes: dict = {}

    def zygote(self, preload):
        from checker.zygote import Zygote
        key = tuple(preload)
        z = self.zygotes.get(key)
        if z is None or not z.alive():
            z = self.zygotes[key] = Zygote(preload, threads=self.config.threads)
        return z

    def check(self, job: Job) -> SlotResult:
        from checker import runner
        from checker.proxy import Sandbox
        from checker.zygote import ZygoteError
        kata = self.catalog.get(job.kata)
        last = None
        for _ in range(2):  # a fork server that died (OOM killer, ...) is restarted once
            try:
                sb = Sandbox(self.zygote(kata.preload), uid=self.uid, gid=self.uid, hide=list(self.config.hide))
                t0 = time.perf_counter()
                report = runner.check(self.catalog, kata, Path(job.attempt), seed=job.seed, sandbox=sb)
                wall = time.perf_counter() - t0
                break
            except ZygoteError as exc:
                last = exc
                self.zygotes.pop(tuple(kata.preload), None)
        else:
            return SlotResult(engine_error=f"the sandbox's fork server failed: {last}", slot=self.index)
        if report.engine_error:
            return SlotResult(engine_error=report.engine_error, seconds=round(wall, 3), slot=self.index)
        data = report.to_json()
        data["attempt"] = f"{job.student}/{kata.filename}"
        prop_seconds = sum(p.pop("seconds", 0.0) for p in data["properties"])
        data.pop("seconds", None)
        return SlotResult(data, None, round(wall, 3), round(prop_seconds, 3), self.index)

    def close(self):
        for z in self.zygotes.values():
            try:
                z.close()
            except Exception:  # noqa: BLE001 - already gone
                pass


def _stop_on_sigterm(signum, frame):
    raise SystemExit(143)  # unwinds the running check: its worker is stopped and swept


def _serve(conn, index: int, config: SlotConfig):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader handles Ctrl-C and keeps the journal
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:  # the grader died (kill -9): the slot and, through the socket, its fork servers follow
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    slot = Slot(index, config)
    try:
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            if job is None:
                return
            try:
                result = slot.check(job)
            except Exception:  # noqa: BLE001 - the engine's failure, reported as such
                result = SlotResult(engine_error=traceback.format_exc(), slot=index)
            conn.send(result)
    finally:
        slot.close()


# ---- in the grader --------------------------------------------------------------------------------
class _Handle:
    def __init__(self, ctx, index, config):
        self.index = index
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, index, config), daemon=True,
                                name=f"kata-grade-slot-{index}")
        self.proc.start()
        child.close()


class SlotPool:
    def __init__(self, config: SlotConfig, jobs: int):
        self.config = config
        self._ctx = mp.get_context("spawn")
        self.handles = [_Handle(self._ctx, i, config) for i in range(jobs)]

    def run(self, jobs, on_result):
        """Run every job on the first idle slot; on_result(job, SlotResult) as each finishes."""
        self._drive({}, deque(jobs), on_result)

    def canary(self, katas, seeds: dict):
        """Every slot checks every kata's reference; CanaryFailed for the first one below 100."""
        failures = []

        def seen(job, result):
            why = canary_problem(result)
            if why and not failures:
                failures.append(f"the reference of {job.kata} does not score 100 in the grading sandbox "
                                f"(slot {result.slot}), so nothing was graded: {why}")
        own = {h.index: deque(Job(CANARY, k.id, str(k.reference), seeds[k.id]) for k in katas)
               for h in self.handles}
        self._drive(own, deque(), seen, stop=lambda: bool(failures))
        if failures:
            raise CanaryFailed(failures[0])

    def _drive(self, own: dict, shared: deque, on_result, stop=lambda: False):
        idle, busy = list(self.handles), {}
        while True:
            for h in list(idle):
                queue = own.get(h.index) or shared
                if queue and not stop():
                    idle.remove(h)
                    job = queue.popleft()
                    h.conn.send(job)
                    busy[h.conn] = (h, job)
            if not busy:
                return
            for conn in wait(list(busy)):
                h, job = busy.pop(conn)
                try:
                    result = conn.recv()
                except (EOFError, OSError):
                    h.proc.join(5)
                    result = SlotResult(engine_error=f"the grading slot died (exit code {h.proc.exitcode})",
                                        slot=h.index)
                    h = self._replace(h)
                idle.append(h)
                on_result(job, result)

    def _replace(self, dead: _Handle) -> _Handle:
        fresh = _Handle(self._ctx, dead.index, self.config)
        self.handles[self.handles.index(dead)] = fresh
        return fresh

    def close(self, interrupted: bool = False):
        """Stop every slot: politely when done, at once (SIGTERM: each stops its running check
        and sweeps its processes) when interrupted."""
        for h in self.handles:
            try:
                if interrupted:
                    h.proc.terminate()
                else:
                    h.conn.send(None)
            except (OSError, ValueError):
                pass
        for h in self.handles:
            h.proc.join(STOP_GRACE_S)
            if h.proc.is_alive():
                h.proc.kill()
                h.proc.join()
            h.conn.close()


def canary_problem(result: SlotResult) -> str | None:
    """Why a reference's check is not a clean 100, or None."""
    if result.engine_error:
        return result.engine_error.strip()
    rep = result.report
    if rep.get("error"):
        return f"it could not be loaded: {rep['error'].strip()}"
    if rep["score"] != 100:
        bad = next(p for p in rep["properties"] if p["status"] != "pass")
        return f"{bad['name']}: {bad['status']}: {(bad.get('message') or '').strip()}"
    return None
