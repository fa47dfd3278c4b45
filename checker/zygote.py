"""The checker's handle on a fork server (checker.forkserver): start it, fork sandboxed workers.

A grading slot keeps one Zygote per set of preloaded modules (numpy, torch): forking a worker from
it costs tens of milliseconds instead of seconds of imports. The workers enter the sandbox of
checker.sandbox; spawn() returns a Popen-like ZygoteProc.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile

from checker.forkserver import MAX_PACKET


class ZygoteError(RuntimeError):
    pass


class Zygote:
    """A running fork server with `preload` imported; spawn() forks a sandboxed worker."""

    def __init__(self, preload=(), threads=1):
        self.preload = tuple(preload)
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL") if k in os.environ}
        n = str(max(1, int(threads)))
        env.update(PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS=n,
                   MKL_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n)
        # Not -I (it would ignore PYTHONHASHSEED, and workers need a fixed hash seed to be
        # reproducible): -s and an empty, root-only cwd keep user site and cwd modules out.
        self._cwd = tempfile.TemporaryDirectory(prefix="kata-zygote-")
        self.proc = subprocess.Popen(
            [sys.executable, "-s", "-B", "-m", "checker.forkserver", str(child.fileno())],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=env, cwd=self._cwd.name, start_new_session=True)
        child.close()
        self.sock = parent
        info = self.request({"op": "preload", "modules": list(preload), "threads": int(n)}, timeout=600)
        self.mountns = bool(info.get("mountns"))
        self.preload_failed = info.get("failed", [])
        self.keep = list(info.get("keep", []))  # what its workers' sandbox leaves visible

    def request(self, msg, fds=(), timeout=30.0):
        try:
            self.sock.settimeout(timeout)
            socket.send_fds(self.sock, [json.dumps(msg).encode()], list(fds))
            data = self.sock.recv(MAX_PACKET)
        except (OSError, socket.timeout) as exc:
            raise ZygoteError(f"the fork server did not answer: {exc}") from None
        if not data:
            raise ZygoteError("the fork server stopped")
        reply = json.loads(data)
        if "error" in reply:
            raise ZygoteError(reply["error"])
        return reply

    def spawn(self, fds, **msg):
        reply = self.request(dict(msg, op="spawn", mountns=self.mountns), fds)
        return ZygoteProc(self, reply["pid"], msg.get("uid"))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self):
        try:
            self.sock.close()
        finally:
            try:
                self.proc.wait(timeout=10)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
            self._cwd.cleanup()


class ZygoteProc:
    """Popen-like handle on a worker forked by a zygote (pid, wait, returncode)."""

    def __init__(self, zygote, pid, uid):
        self.zygote, self.pid, self.uid = zygote, pid, uid
        self.returncode = None

    def wait(self, timeout=None):
        if self.returncode is not None:
            return self.returncode
        t = 5.0 if timeout is None else float(timeout)
        code = self.zygote.request({"op": "wait", "pid": self.pid, "timeout": t}, timeout=t + 30)["code"]
        if code is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", t)
        self.returncode = code
        return code

    def kill_all(self) -> int:
        """Kill the worker and everything it left behind; the number of stray processes."""
        return int(self.zygote.request({"op": "kill", "pid": self.pid, "uid": self.uid}, timeout=60)["strays"])
