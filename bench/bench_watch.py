"""`kata watch` re-check latency: from the attempt file's write to the report's last line.

For each kata, a `kata watch` process watches a fresh workspace whose attempt is the reference
(a correct attempt runs every example: the slowest re-check). After its first check, the file is
saved SAVES times (a changed comment each time), and each save's latency is measured from the
write to the arrival of the report's "Score:" line on the watcher's output. The same run then
times SAVES fresh `kata check` processes of the same file (interpreter start included), for the
speed-up. Finally the watcher gets Ctrl-C (SIGINT) and must exit 0.

    python bench/bench_watch.py [--saves 5] [kata ...]
"""
from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from checker.catalog import Catalog

GOALS = {"lca": 0.6, "merge_sorted": 0.6, "flash_attention": 2.0, "checkpointing": 2.0}
KATA = [sys.executable, "-m", "checker"]


def _reader(stream, lines):
    for line in iter(stream.readline, ""):
        lines.put((time.perf_counter(), line))
    lines.put((time.perf_counter(), None))


def _wait_score(lines, timeout=300.0):
    deadline = time.monotonic() + timeout
    while True:
        t, line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if line is None:
            raise RuntimeError("the watcher exited")
        if line.startswith("Score:"):
            return t, line.strip()


def bench_kata(kata, saves: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        attempt = ws / kata.filename
        source = kata.reference.read_text()
        attempt.write_text(source)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # SIGINT at its default: a benchmark started in the background inherits it ignored,
        # and Python then never turns Ctrl-C into KeyboardInterrupt.
        proc = subprocess.Popen(KATA + ["-w", str(ws), "watch", kata.id, "--seed", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
        try:
            _, first = _wait_score(lines)
            if "100/100" not in first:
                raise RuntimeError(f"{kata.id}: the reference did not score 100 in watch: {first}")
            latencies = []
            for i in range(saves):
                time.sleep(0.5)  # let the watcher settle back into waiting
                t0 = time.perf_counter()
                attempt.write_text(source + f"\n# save {i}\n")
                t1, score = _wait_score(lines)
                if "100/100" not in score:
                    raise RuntimeError(f"{kata.id}: save {i} scored {score}")
                latencies.append(t1 - t0)
            t0 = time.perf_counter()
            proc.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                code = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                code = "hung"
                proc.send_signal(signal.SIGUSR1)  # the watcher dumps its threads' stacks
                time.sleep(2)
                tail = []
                while not lines.empty():
                    tail.append(lines.get()[1] or "")
                print("".join(tail)[-5000:], file=sys.stderr)
            stop_s = time.perf_counter() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        fresh = []
        for _ in range(saves):
            t0 = time.perf_counter()
            done = subprocess.run(KATA + ["-w", str(ws), "check", kata.id, "--seed", "1"],
                                  capture_output=True, text=True)
            fresh.append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise RuntimeError(f"{kata.id}: fresh check failed:\n{done.stdout[-2000:]}")
        return {"watch": latencies, "fresh": fresh, "ctrl_c_exit": code, "stop_s": stop_s}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--saves", type=int, default=5)
    ap.add_argument("katas", nargs="*", default=list(GOALS))
    args = ap.parse_args(argv)
    if shutil.which(sys.executable) is None:
        sys.exit("no python")
    catalog = Catalog()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"load average at start: {load:.1f}; {args.saves} saves per kata")
    print(f"{'kata':<16} {'watch med':>9} {'min':>6} {'max':>6} {'fresh med':>9} {'speed-up':>8} "
          f"{'goal':>6}  ok  Ctrl-C")
    ok = True
    for name in args.katas:
        r = bench_kata(catalog.get(name), args.saves)
        w, f = statistics.median(r["watch"]), statistics.median(r["fresh"])
        goal = GOALS.get(name)
        good = (goal is None or w <= goal) and f / w >= 1.5 and r["ctrl_c_exit"] == 0
        ok &= good
        print(f"{name:<16} {w:>9.2f} {min(r['watch']):>6.2f} {max(r['watch']):>6.2f} {f:>9.2f} "
              f"{f / w:>7.1f}x {goal if goal else '-':>6}  {'yes' if good else 'NO':<3} "
              f"exit {r['ctrl_c_exit']} in {r['stop_s']:.1f} s", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
