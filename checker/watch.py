"""`kata watch`: re-check an attempt every time it is saved, with the checker kept warm.

Between checks the process keeps the imported suite, reference and hypothesis, and a zygote
(checker.zygote) with the kata's heavy modules (numpy, torch) imported once. Each check forks a
fresh sandboxed worker from it, exactly as `kata grade` does, so a re-check costs the
properties' own work. Saves are seen through watchfiles (inotify), not by polling.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from checker import runner
from checker.proxy import Sandbox
from checker.report import Report, render

# watchfiles groups the events of one save (editors write, rename, chmod) within this many ms.
DEBOUNCE_MS = 30
STEP_MS = 10


class WarmChecker:
    """A checker for one kata that stays loaded between checks."""

    def __init__(self, catalog, kata, hide=()):
        import hypothesis  # noqa: F401  imported once here, not in the first check
        self.catalog, self.kata, self.hide = catalog, kata, [str(h) for h in hide]
        self._zygote = None
        runner.property_names(kata)                                   # the suite
        runner.load_module(kata.reference, f"kata_reference_{kata.id}")

    def zygote(self):
        from checker.zygote import Zygote
        if self._zygote is None or not self._zygote.alive():
            self._zygote = Zygote(self.kata.preload, threads=1)
        return self._zygote

    def check(self, path: Path, *, seed=None, database=None, on_property=None) -> Report:
        from checker.zygote import ZygoteError
        for attempt in range(2):  # a zygote that died (OOM killer, ...) is restarted once
            try:
                return runner.check(self.catalog, self.kata, path, seed=seed, database=database,
                                    sandbox=Sandbox(self.zygote(), hide=self.hide),
                                    on_property=on_property)
            except ZygoteError:
                self._zygote = None
                if attempt:
                    raise

    def close(self):
        if self._zygote is not None:
            self._zygote.close()
            self._zygote = None


def _digest(path: Path):
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class Loop:
    """One watch session: check, draw, wait for a save, again."""

    def __init__(self, warm: WarmChecker, path: Path, console, *, seed=None, database=None,
                 record=None):
        self.warm, self.path, self.console = warm, path, console
        self.seed, self.database, self.record = seed, database, record
        self.checks = 0

    def draw_check(self):
        console, kata = self.console, self.warm.kata
        if console.is_terminal:
            console.clear()
        n = len(runner.property_names(kata))
        done = []
        t0 = time.perf_counter()
        with console.status(f"checking {kata.id}: 0 of {n} properties") as status:
            def progress(result):
                done.append(result)
                bad = sum(not r.passed for r in done)
                status.update(f"checking {kata.id}: {len(done)} of {n} properties"
                              + (f", {bad} failing" if bad else "") + f" ({time.perf_counter() - t0:.1f} s)")
            try:
                report = self.warm.check(self.path, seed=self.seed, database=self.database,
                                         on_property=progress)
            except Exception as exc:  # noqa: BLE001 - the engine's failure: say so, keep watching
                console.print(f"[red bold]internal error (not your attempt's fault):[/] "
                              f"{type(exc).__name__}: {exc}")
                report = None
        self.checks += 1
        if report is not None:
            if self.record:
                self.record(report)
            render(report, console)
        console.print(f"[dim]watching {self.path} — save to check again, Ctrl-C to stop[/]")
        return report

    def run(self, stop_event=None, max_checks=None):
        """Check now, then after every save, until Ctrl-C, stop_event or max_checks.

        watchfiles waits in a daemon thread and hands saves over a queue: Ctrl-C lands in this
        thread at once, and a watcher that is slow to close cannot keep the process alive.
        Saves made during a check are coalesced into one re-check, and a save that leaves the
        file as it was checked (one save's events arriving in two batches) is not checked again.
        """
        import queue
        import threading

        import watchfiles
        stop = stop_event or threading.Event()
        saves: queue.Queue = queue.Queue()
        name = self.path.name

        def only_attempt(change, p):
            return Path(p).name == name

        def wait_for_saves():
            for changes in watchfiles.watch(self.path.parent, watch_filter=only_attempt,
                                            debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=stop,
                                            raise_interrupt=False, rust_timeout=200, recursive=False):
                saves.put(changes)

        threading.Thread(target=wait_for_saves, name="kata-watch", daemon=True).start()
        try:
            checked = _digest(self.path)
            self.draw_check()
            while max_checks is None or self.checks < max_checks:
                try:
                    saves.get(timeout=0.2)
                except queue.Empty:
                    if stop.is_set():
                        return
                    continue
                while not saves.empty():  # several saves while checking: one re-check
                    saves.get_nowait()
                if not self.path.exists():
                    self.console.print(f"[yellow]{self.path} was removed; waiting for it to come back[/]")
                    continue
                digest = _digest(self.path)
                if digest == checked:
                    continue
                checked = digest
                self.draw_check()
        finally:
            stop.set()
