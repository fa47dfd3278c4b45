"""Checker-side handle on a worker process: start it, send requests, enforce time limits.

A fault in the attempt (timeout, crash, exit, forbidden API) ends the worker and raises an
AttemptAbort (a BaseException, so hypothesis stops at once instead of shrinking a hang); the next
request starts a fresh worker. An exception raised by the attempt comes back as AttemptRaised,
an ordinary Exception that hypothesis shrinks like any failure.
"""
from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from checker import codec, protocol


class AttemptRaised(Exception):
    """The attempt raised an exception; `types` lists its class and base class names."""

    def __init__(self, type_name, types, message):
        super().__init__(message)
        self.type_name, self.types, self.message = type_name, list(types), message

    def is_a(self, name: str) -> bool:
        return name in self.types


class AttemptAbort(BaseException):
    """The call could not complete: status is timeout, crash, forbidden or error."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class EngineError(BaseException):
    """The engine, not the attempt, failed (the sandbox, an import the environment should
    provide, the suite): the check has no verdict. A BaseException, like AttemptAbort, so that
    hypothesis stops at once instead of shrinking the engine's failure."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LoadFailed(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass
class LoadSpec:
    attempt: str
    module: str
    harness: str | None
    preload: list[str]
    forbidden: list[str]
    secret: list[str]
    memory_mb: int
    load_timeout: float


@dataclass
class Outcome:
    value: object
    elapsed: float            # seconds, measured by the checker around the request
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    probes: dict = field(default_factory=dict)


@dataclass
class Sandbox:
    """How a grader runs a stranger's attempt (pass as `WorkerProxy(spec, sandbox=Sandbox(...))`).

    The worker is forked from `zygote` (a checker.zygote.Zygote with the kata's preloads) into a
    new session, a private mount namespace hiding the checker's files (when root), rlimits and,
    when uid is set and the checker is root, that unprivileged uid. The attempt is copied into a
    fresh scratch dir the uid owns, so the original submission tree needs no permissions for it.
    `hide`: more paths the attempt must not see (output dir, submissions root, ...).
    """
    zygote: object
    uid: int | None = None
    gid: int | None = None
    hide: list = field(default_factory=list)
    fsize_mb: int = 16
    nproc: int = 64
    nofile: int = 256
    cpu_s: int = 600


# Printed lines that imitate a test runner's or this checker's verdict: they cannot change a
# score (only values the checker receives count), but printing them is gaming, so it is flagged.
_FAKE_VERDICT = re.compile(r"\bPASSED\b|\b\d+ passed\b|Score: *100|100 */ *100|\"score\": *100")
FLOOD_BYTES = 1 << 20  # more output than this from one worker is flagged output-flood


# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on machines whose OpenBLAS misdetects the CPU
# (wrong results or crashes without them), so they pass through.
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _clean_env(workdir):
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    env.update(HOME=workdir, TMPDIR=workdir, PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    # One thread: katas run small ops, where a thread pool only adds contention (20x slower tiles
    # on a busy 2-core machine), and results do not depend on the thread count.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return env


class WorkerProxy:
    """The checker's handle on one worker process (checker.worker.WorkerServer on the other side).

    sandbox=None: a plain `python -I -m checker.worker` child of the checker (kata check);
    a Sandbox: forked from the grader's zygote into the sandbox it describes (kata grade).
    """

    def __init__(self, spec: LoadSpec, sandbox: Sandbox | None = None):
        self.spec = spec
        self.sandbox = sandbox
        self.proc = None
        self._loading = False
        self.starts = 0
        self._dir = None
        self.flags: set[str] = set()

    # ---- life cycle -------------------------------------------------------------------------
    def begin(self):
        """Start the worker and send it the attempt to load, without waiting for the answer, so
        the checker can import the suite while the worker imports its heavy modules."""
        if self.proc is not None:
            return
        if self.sandbox is not None:
            return self._begin_sandboxed()
        self._dir = tempfile.TemporaryDirectory(prefix="kata-worker-")
        workdir = self._dir.name
        c_read, w_write = os.pipe()
        w_read, c_write = os.pipe()
        self._log = open(os.path.join(workdir, ".output"), "w+b")
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "checker.worker", str(w_read), str(w_write)],
            pass_fds=(w_read, w_write), stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, cwd=workdir, env=_clean_env(workdir),
            start_new_session=True)
        os.close(w_read)
        os.close(w_write)
        self.rfd, self.wfd = c_read, c_write
        self._send_load(self.spec.attempt, self.spec.secret, workdir)

    def _send_load(self, attempt, secret, workdir):
        self.starts += 1
        s = self.spec
        self._send({"op": "load", "attempt": attempt, "module": s.module, "harness": s.harness,
                    "preload": s.preload, "forbidden": s.forbidden, "secret": secret,
                    "memory_mb": s.memory_mb, "workdir": workdir}, "loading the attempt")
        self._loading = True

    def _begin_sandboxed(self):
        sb, s = self.sandbox, self.spec
        self._dir = tempfile.TemporaryDirectory(prefix="kata-worker-")
        workdir = os.path.realpath(self._dir.name)
        self._workdir = workdir
        # A private copy: the uid needs no access to the submission tree, and a planted
        # conftest.py or anything else next to the file never reaches the worker.
        attempt = os.path.join(workdir, f"{s.module}.py")
        shutil.copyfile(s.attempt, attempt)
        if sb.uid is not None and os.geteuid() == 0:
            os.chown(workdir, sb.uid, sb.gid)
            os.chown(attempt, sb.uid, sb.gid)
        self._log = tempfile.TemporaryFile(prefix="kata-output-")  # unnamed: only the checker reads it
        c_read, w_write = os.pipe()
        w_read, c_write = os.pipe()
        secret = list(s.secret) + [str(p) for p in sb.hide]
        env = _clean_env(workdir)
        try:
            self.proc = sb.zygote.spawn(
                [w_read, w_write, self._log.fileno()], uid=sb.uid, gid=sb.gid, workdir=workdir,
                env=env, hide=secret, keep=[os.path.dirname(s.harness)] if s.harness else [],
                limits={"memory_mb": s.memory_mb, "fsize_mb": sb.fsize_mb, "nproc": sb.nproc,
                        "nofile": sb.nofile, "cpu_s": sb.cpu_s})
        finally:
            os.close(w_read)
            os.close(w_write)
        self.rfd, self.wfd = c_read, c_write
        self._send_load(attempt, secret, workdir)

    def _scrub(self, text):
        """Messages name the attempt's file, not the scratch dir (same text on every run)."""
        wd = getattr(self, "_workdir", None)
        return text.replace(wd + os.sep, "").replace(wd, ".") if wd and isinstance(text, str) else text

    def ensure(self):
        """Make sure a worker with the attempt loaded is ready (LoadFailed if it cannot load)."""
        self.begin()
        if self._loading:
            self._loading = False
            reply = self._receive(self.spec.load_timeout, "loading the attempt")
            self._note_events(reply)
            if reply.get("kind") == "engine":
                self.stop()
                raise EngineError(self._scrub(str(reply.get("message", "the worker failed to start"))))
            if not reply.get("ok"):
                msg = reply.get("message") or f"{reply.get('api')} is forbidden in this kata"
                if reply.get("kind") == "forbidden":
                    self.flags.add("forbidden-api")
                self.stop()
                raise LoadFailed(str(reply.get("kind")), self._scrub(str(msg)))

    def stop(self):
        if self.proc is None:
            return
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.sandbox is not None:
            try:
                if self.proc.kill_all():
                    self.flags.add("stray-process")
            except Exception:  # noqa: BLE001 - a dead zygote: the slot restarts it
                self.flags.add("sandbox-error")
        else:
            _kill_group(self.proc)
        self.proc = None
        try:
            if os.fstat(self._log.fileno()).st_size > FLOOD_BYTES:
                self.flags.add("output-flood")
            if _FAKE_VERDICT.search(self.output_tail(64 * 1024)):
                self.flags.add("fake-verdict-output")
        except (OSError, ValueError):
            pass
        self._log.close()
        self._dir.cleanup()

    def output_tail(self, limit=2000) -> str:
        """What the attempt printed most recently (for a crash message)."""
        try:
            self._log.flush()
            size = os.fstat(self._log.fileno()).st_size
            self._log.seek(max(0, size - limit))
            return self._log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    # ---- requests -----------------------------------------------------------------------------
    def call(self, fn, args=(), kwargs=None, *, timeout, probes=(), return_args=False) -> Outcome:
        self.ensure()
        t0 = time.perf_counter()
        reply = self._request({"op": "call", "fn": fn, "args": list(args), "kwargs": kwargs or {},
                               "probes": list(probes), "return_args": return_args},
                              timeout, what=f"{fn}()")
        return self._outcome(reply, time.perf_counter() - t0)

    def harness(self, fn, args=(), kwargs=None, *, timeout) -> Outcome:
        self.ensure()
        t0 = time.perf_counter()
        reply = self._request({"op": "harness", "fn": fn, "args": list(args), "kwargs": kwargs or {}},
                              timeout, what=f"{fn}()")
        return self._outcome(reply, time.perf_counter() - t0)

    def _note_events(self, reply):
        events = reply.get("events")
        if isinstance(events, list):
            self.flags |= {e for e in events if isinstance(e, str) and len(e) < 40}

    def _outcome(self, reply, elapsed):
        self._note_events(reply)
        if "ok" not in reply:
            self._abort("error", "the worker sent a malformed reply")
        if reply["ok"]:
            return Outcome(reply.get("value"), elapsed, reply.get("args", []), reply.get("kwargs", {}),
                           reply.get("probes", {}))
        kind = reply.get("kind")
        if kind == "probe-tamper":  # checker.probes: a meter was switched off, nothing was measured
            self._abort("fail", "the attempt switched off or routed around the checker's measurement, "
                                "so this property cannot pass:\n" + self._scrub(str(reply.get("message"))))
        if kind == "engine":
            self.stop()
            raise EngineError(self._scrub(str(reply.get("message", "the worker failed"))))
        if kind == "exception":
            raise AttemptRaised(reply.get("type", "Exception"), reply.get("types", []),
                                self._scrub(reply.get("message", "")))
        if kind == "forbidden":
            self.flags.add("forbidden-api")
            self._abort("forbidden", f"called {reply.get('api')}, which is forbidden in this kata")
        self._abort("error", self._scrub(str(reply.get("message", "the call failed"))))

    def _abort(self, status, message):
        self.stop()
        raise AttemptAbort(status, message)

    def _request(self, msg, timeout, *, what):
        self._send(msg, what)
        return self._receive(timeout, what)

    def _send(self, msg, what):
        try:
            protocol.send(self.wfd, codec.dumps(msg))
        except OSError:
            self._crashed(what)

    def _receive(self, timeout, what):
        deadline = time.monotonic() + timeout
        header = self._read(protocol.HEADER.size, deadline, what, timeout)
        (size,) = protocol.HEADER.unpack(header)
        if size > protocol.MAX_MESSAGE:
            self.flags.add("oversized-reply")
            self._abort("error", f"the reply to {what} was too large ({size} bytes)")
        try:
            reply = codec.loads(self._read(size, deadline, what, timeout))
        except codec.CodecError as exc:
            self.flags.add("malformed-reply")
            self._abort("error", f"the worker's reply to {what} was malformed: {exc}")
        if not isinstance(reply, dict):
            self.flags.add("malformed-reply")
            self._abort("error", f"the worker's reply to {what} was malformed")
        return reply

    def _read(self, n, deadline, what, timeout):
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            ready = select.select([self.rfd], [], [], max(0.0, left))[0] if left > 0 else []
            if not ready:
                self.flags.add("timeout")
                self._abort("timeout", f"{what} did not finish within {timeout:.3g} s (time limit)")
            chunk = os.read(self.rfd, min(n - got, 1 << 20))
            if not chunk:
                self._crashed(what)
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _crashed(self, what):
        proc = self.proc
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.output_tail(600).strip()
        if code is not None and code < 0:
            sig = signal.Signals(-code).name
            why = {"SIGSEGV": "a segmentation fault", "SIGKILL": "being killed (out of memory?)",
                   "SIGXFSZ": "writing too much output", "SIGXCPU": "using too much CPU time"}.get(sig, sig)
            message = f"the worker died during {what} from {why}"
            if sig == "SIGXFSZ":
                self.flags.add("output-flood")
        elif code is not None:
            message = f"the worker exited with status {code} during {what} (os._exit or a fatal error)"
        else:
            message = f"the worker stopped answering during {what}"
        if tail:
            message += "\n--- last output ---\n" + self._scrub(tail[-600:])
        self.flags.add("crash")
        self._abort("crash", message)


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
