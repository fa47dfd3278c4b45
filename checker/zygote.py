"""Fork server (zygote): heavy modules imported once, a fresh sandboxed worker forked per request.

Started by the checker as `python -I -m checker.zygote SOCKET_FD`; the checker keeps the other end
of a SOCK_SEQPACKET socketpair (one JSON message per packet, fds passed with SCM_RIGHTS).

    checker -> {"op": "preload", "modules": [...], "threads": n}      <- {"ok", "failed", "mountns"}
    checker -> {"op": "spawn", ...} + fds [read, write, log]          <- {"pid"}
    checker -> {"op": "wait", "pid", "timeout"}                       <- {"code"} (None: still running)
    checker -> {"op": "kill", "pid", "uid"}                           <- {"strays": n}

The zygote never runs attempt code: only its forked children do, after `_enter_sandbox` (new
session, private mount namespace hiding the checker's secrets when root, rlimits, scratch dir,
scrubbed environment, unprivileged uid when root). It is a child subreaper, so processes an attempt
leaves behind (double fork, setsid) are re-parented here and `kill` can find and end them; as root
it also kills every process of the worker's uid. It exits when the checker's end of the socket
closes (the checker finished or died).
"""
from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import signal
import socket
import sys
import time
import traceback

_MAX = 1 << 20
CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


# ---- the sandbox, entered by each forked child before the attempt is loaded -----------------
def _enter_sandbox(msg):
    os.setsid()
    uid, gid, workdir = msg.get("uid"), msg.get("gid"), msg["workdir"]
    if os.geteuid() == 0 and msg.get("mountns", True):
        try:
            _private_mounts(msg.get("hide", []), msg.get("keep", []), workdir, uid, gid)
        except OSError as exc:
            # Best effort: without a mount namespace the uid and file modes still protect.
            print(f"[zygote] no private mount namespace: {exc}", file=sys.stderr)
    lim = msg.get("limits", {})
    for name, value in (("RLIMIT_AS", lim.get("memory_mb", 2048) * 1024 * 1024),
                        ("RLIMIT_CPU", lim.get("cpu_s", 600)),
                        ("RLIMIT_NPROC", lim.get("nproc", 64)),
                        ("RLIMIT_FSIZE", lim.get("fsize_mb", 16) * 1024 * 1024),
                        ("RLIMIT_NOFILE", lim.get("nofile", 256)),
                        ("RLIMIT_CORE", 0)):
        which = getattr(resource, name)
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        # Hard limits too, so the attempt cannot raise them back.
        resource.setrlimit(which, (value, value))
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(msg.get("env", {}))
    if uid is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if os.geteuid() != uid or os.getuid() != uid:
            raise OSError("could not drop privileges")


def _private_mounts(hide, keep, workdir, uid, gid):
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Fresh, private temp dirs: nothing left by another student is visible, only the scratch dir.
    for d in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(d):
            inside = [workdir] if _under(workdir, d) else []
            _overmount(d, inside, "mode=1777,size=64m")
    # Make the interpreter reachable when it lives under a directory the worker's uid cannot
    # enter (e.g. Python under /root): a tmpfs over that directory shows only the needed entries.
    if uid is not None:
        for _ in range(8):
            blocked = _blocked_dirs(keep + [workdir], uid, gid)
            if not blocked:
                break
            for parent, children in sorted(blocked.items()):
                _overmount(parent, sorted(children), "mode=0711,size=64k")
    for p in hide:
        try:
            if os.path.isdir(p):
                _mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000,size=4k")
            elif os.path.exists(p):
                _mount("/dev/null", p, None, MS_BIND)
        except OSError:
            pass  # not visible in this namespace any more (e.g. under the private /tmp)


def _overmount(d, keep, options):
    """Mount an empty tmpfs over d, then bind the original `keep` paths back at their places."""
    fds = [(k, os.open(k, os.O_PATH)) for k in keep]
    try:
        _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, options)
        for k, fd in fds:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(k, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(k), exist_ok=True)
                open(k, "a").close()
            _mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC)
    finally:
        for _, fd in fds:
            os.close(fd)


def _under(p, d):
    p, d = os.path.realpath(p), os.path.realpath(d)
    return p == d or p.startswith(d.rstrip("/") + "/")


def _can_enter(st, uid, gid):
    if st.st_uid == uid:
        return bool(st.st_mode & 0o100)
    if st.st_gid == gid:
        return bool(st.st_mode & 0o010)
    return bool(st.st_mode & 0o001)


def _blocked_dirs(paths, uid, gid):
    """{dir the uid cannot enter: {its children on the way to a needed path}}."""
    blocked: dict[str, set[str]] = {}
    for p in paths:
        p = os.path.realpath(p)
        parts = p.strip("/").split("/")
        cur = "/"
        for i, part in enumerate(parts):
            nxt = os.path.join(cur, part)
            try:
                st = os.stat(cur)
            except OSError:
                break
            if not _can_enter(st, uid, gid):
                blocked.setdefault(cur, set()).add(nxt)
                break
            cur = nxt
    return blocked


def _child(msg, fds, sock):
    code = 70
    try:
        rfd, wfd, logfd = fds
        sock.close()
        os.dup2(logfd, 1)
        os.dup2(logfd, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        _enter_sandbox(msg)
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
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


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
        self.status: dict[int, int] = {}   # exit codes of reaped workers
        self.workers: set[int] = set()

    def run(self):
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, _MAX, 8)
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
        importlib.import_module("checker.worker")
        importlib.import_module("random")
        return {"ok": True, "failed": failed, "mountns": _mountns_works()}

    def op_spawn(self, msg, fds):
        pid = os.fork()
        if pid == 0:
            _child(msg, fds, self.sock)
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


def _mountns_works():
    if os.geteuid() != 0:
        return False
    pid = os.fork()
    if pid == 0:
        try:
            _check(_libc.unshare(CLONE_NEWNS), "unshare")
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, st = os.waitpid(pid, 0)
    return os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0


def main(argv):
    sock = socket.socket(fileno=int(argv[1]))
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the checker died: so do we
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the checker; it closes the socket
    Server(sock).run()


if __name__ == "__main__":
    main(sys.argv)


# ---- the checker's side ------------------------------------------------------------------------
class ZygoteError(RuntimeError):
    pass


class Zygote:
    """A running fork server with `preload` imported; spawn() forks a sandboxed worker."""

    def __init__(self, preload=(), threads=1):
        import subprocess
        import tempfile
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
            [sys.executable, "-s", "-B", "-m", "checker.zygote", str(child.fileno())],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=env, cwd=self._cwd.name, start_new_session=True)
        child.close()
        self.sock = parent
        info = self.request({"op": "preload", "modules": list(preload), "threads": int(n)}, timeout=600)
        self.mountns = bool(info.get("mountns"))
        self.preload_failed = info.get("failed", [])
        self.keep = _reachable_paths()

    def request(self, msg, fds=(), timeout=30.0):
        try:
            self.sock.settimeout(timeout)
            socket.send_fds(self.sock, [json.dumps(msg).encode()], list(fds))
            data = self.sock.recv(_MAX)
        except (OSError, socket.timeout) as exc:
            raise ZygoteError(f"the fork server did not answer: {exc}") from None
        if not data:
            raise ZygoteError("the fork server stopped")
        reply = json.loads(data)
        if "error" in reply:
            raise ZygoteError(reply["error"])
        return reply

    def spawn(self, fds, **msg):
        reply = self.request(dict(msg, op="spawn", keep=self.keep, mountns=self.mountns), fds)
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
        import subprocess
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


def _reachable_paths():
    """Directories a worker must be able to reach: the interpreter, its libraries, the engine."""
    import checker
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)}
    paths |= {p for p in sys.path if p and os.path.isdir(p)}
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(checker.__file__))))
    try:
        import katas
        paths |= {os.path.dirname(p) for p in katas.__path__}
    except ImportError:
        pass
    return sorted(os.path.realpath(p) for p in paths)
