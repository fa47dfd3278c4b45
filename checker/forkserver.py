"""The fork server (zygote): heavy modules imported once, a fresh sandboxed worker forked per request.

Started by checker.zygote.Zygote as `python -s -B -m checker.forkserver SOCKET_FD`; the checker
keeps the other end of a SOCK_SEQPACKET socketpair (one JSON message per packet, fds passed with
SCM_RIGHTS).

    checker -> {"op": "preload", "modules": [...], "threads": n}  <- {"ok", "failed", "mountns", "keep"}
    checker -> {"op": "spawn", ...} + fds [read, write, log]      <- {"pid"}
    checker -> {"op": "wait", "pid", "timeout"}                   <- {"code"} (None: still running)
    checker -> {"op": "kill", "pid", "uid"}                       <- {"strays": n}

The server never runs attempt code: only its forked children do, after checker.sandbox.enter. It
is a child subreaper, so processes an attempt leaves behind (double fork, setsid) are re-parented
here and `kill` can find and end them; as root it also kills every process of the worker's uid.
It exits when the checker's end of the socket closes (the checker finished or died).
"""
from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import socket
import sys
import time
import traceback

from checker import codec, protocol, sandbox

MAX_PACKET = 1 << 20
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


def _child(msg, fds, sock, keep_paths):
    code = 70
    rfd = wfd = None
    try:
        rfd, wfd, logfd = fds
        sock.close()
        os.dup2(logfd, 1)
        os.dup2(logfd, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        sandbox.enter(msg, keep_paths)
        keep = {0, 1, 2, rfd, wfd}
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        _reseed(int(msg.get("seed", 0)))
        from checker.worker import WorkerServer
        WorkerServer(rfd, wfd).serve()
        code = 0
    except BaseException:  # noqa: BLE001 - the child must never return into the zygote's loop
        try:
            traceback.print_exc()
            sys.stderr.flush()
            _report_engine_error(wfd, traceback.format_exc())
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


def _report_engine_error(wfd, text):
    """Answer the checker's `load` with the setup failure: no attempt code has run yet, so this
    reply is the engine's own, and the pair is left ungraded instead of scored as a crash."""
    if wfd is not None:
        protocol.send(wfd, codec.dumps({"ok": False, "kind": "engine",
                                        "message": "the worker's sandbox could not be set up:\n" + text}))


def _reseed(seed):
    """Every worker starts from the same random state: an attempt using unseeded `random`
    (or numpy/torch global generators) gets the same numbers on every run, whatever the fork
    order, so grading stays reproducible."""
    import random
    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


# ---- the server loop --------------------------------------------------------------------------
class Server:
    def __init__(self, sock):
        self.sock = sock
        self.keep: list[str] = []          # what the sandbox leaves visible (sandbox.reachable_paths)
        self.status: dict[int, int] = {}   # exit codes of reaped workers
        self.workers: set[int] = set()

    def run(self):
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, MAX_PACKET, 8)
            except (ConnectionError, OSError):
                data, fds = b"", []
            if not data:
                self._sweep(None)
                return
            msg = json.loads(data)
            try:
                reply = getattr(self, "op_" + msg["op"])(msg, fds)
            except Exception as exc:  # noqa: BLE001 - report, keep serving
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                if msg.get("op") != "spawn":
                    for fd in fds:
                        os.close(fd)
            self._reap()
            self.sock.send(json.dumps(reply).encode())

    def op_preload(self, msg, fds):
        threads = int(msg.get("threads", 1))
        failed = []
        for name in msg.get("modules", []):
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - the worker reports it when loading
                failed.append(f"{name}: {exc}")
        if "torch" in sys.modules:
            # No torch op before fork: only the thread count (OpenMP pool not created yet).
            sys.modules["torch"].set_num_threads(threads)
        if "numpy" in sys.modules:
            importlib.import_module("numpy.random")  # reseeded in every worker: import it once here
        importlib.import_module("checker.worker")
        importlib.import_module("random")
        self.keep = sandbox.reachable_paths()
        return {"ok": True, "failed": failed, "mountns": sandbox.mountns_works(), "keep": self.keep}

    def op_spawn(self, msg, fds):
        pid = os.fork()
        if pid == 0:
            try:
                _child(msg, fds, self.sock, self.keep)
            finally:
                os._exit(70)  # never back into the server's loop, whatever happened
        for fd in fds:
            os.close(fd)
        self.workers.add(pid)
        return {"pid": pid}

    def op_wait(self, msg, fds):
        pid, deadline = msg["pid"], time.monotonic() + float(msg.get("timeout", 0))
        while True:
            self._reap()
            if pid in self.status:
                return {"code": self.status[pid]}
            if time.monotonic() >= deadline:
                return {"code": None}
            time.sleep(0.005)

    def op_kill(self, msg, fds):
        pid = msg["pid"]
        for target in (-pid, pid):
            try:
                os.kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        strays = self._sweep(msg.get("uid"), exclude={pid})
        return {"strays": strays}

    # ---- reaping and sweeping ------------------------------------------------------------
    def _reap(self):
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.workers:
                self.workers.discard(pid)
                self.status[pid] = -os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st)

    def _sweep(self, uid, exclude=()):
        """Kill every descendant (and, as root, every process of `uid`); count the strays."""
        seen = set()
        root = os.geteuid() == 0
        for _ in range(200):
            victims = _descendants(os.getpid())
            if uid is not None and root:
                victims |= _processes_of(uid)
            if not victims:
                break
            seen |= victims
            if uid is not None and root:
                _kill_everything_of(uid)
            for v in victims:
                try:
                    os.kill(v, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.002)
            self._reap()
        self._reap()
        return len(seen - set(exclude))


def _proc_table():
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{name}/status", "rb") as f:
                status = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2:].split()
        state, ppid = rest[0], int(rest[1])
        uid = int(status.split(b"\nUid:")[1].split()[0])
        table[int(name)] = (ppid, uid, state)
    return table


def _descendants(root_pid):
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for p, (pp, _, _) in table.items():
        children.setdefault(pp, []).append(p)
    found, stack = set(), [root_pid]
    while stack:
        for c in children.get(stack.pop(), []):
            if c not in found:
                found.add(c)
                stack.append(c)
    return {p for p in found if table[p][2] not in (b"Z", b"X")}


def _processes_of(uid):
    return {p for p, (_, u, st) in _proc_table().items() if u == uid and st != b"Z"}


def _kill_everything_of(uid):
    """kill(-1) as that uid: one atomic signal to all its processes, fork bombs included."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(65534, 65534, 65534)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        except BaseException:  # noqa: BLE001
            pass
        os._exit(0)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def main(argv):
    sock = socket.socket(fileno=int(argv[1]))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the checker died: so do we
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the checker; it closes the socket
    Server(sock).run()


if __name__ == "__main__":
    main(sys.argv)
