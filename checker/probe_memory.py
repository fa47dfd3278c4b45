"""Memory probes (re-exported by checker.probes, which says how tampering is handled)."""
from __future__ import annotations

import ctypes
import os
import tracemalloc

from checker.probe_state import _TRACEMALLOC, _active, _active_of, engine_fault, tampered


# ---- memory ---------------------------------------------------------------------------------
class _Proc:
    """The kernel's view of this process's memory: /proc/self/status, and resetting VmHWM.

    The files are opened once, before the attempt loads (install()); afterwards the guard refuses
    the attempt any open of a clear_refs file, so only the probe can reset the high-water mark.
    """
    status_fd = None
    clear_fd = None
    pid = None
    _trim = _mallopt = None
    _exact = False

    @classmethod
    def open(cls):
        if cls.pid == os.getpid():
            return
        cls.close()
        cls.pid = os.getpid()
        cls.status_fd = os.open("/proc/self/status", os.O_RDONLY)
        try:
            cls.clear_fd = os.open("/proc/self/clear_refs", os.O_WRONLY)
        except PermissionError:
            # A process that changed uid (the grading sandbox) is not "dumpable": its /proc files
            # belong to root and it cannot write its own clear_refs. Making it dumpable again gives
            # them back to its uid (no core dumps: RLIMIT_CORE is 0; no other process of that uid
            # may exist besides the attempt's own), then the open succeeds.
            try:
                ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
                cls.clear_fd = os.open("/proc/self/clear_refs", os.O_WRONLY)
            except (OSError, AttributeError):
                cls.clear_fd = None
        except OSError:
            cls.clear_fd = None  # no way to reset the peak: PeakMemory then reports only tracemalloc
        try:
            libc = ctypes.CDLL(None)
            cls._trim = libc.malloc_trim
            cls._mallopt = libc.mallopt
        except (OSError, AttributeError):
            cls._trim = cls._mallopt = None

    @classmethod
    def close(cls):
        for fd in (cls.status_fd, cls.clear_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        cls.status_fd = cls.clear_fd = cls.pid = None

    @classmethod
    def read(cls):
        """{"hwm", "anon", "file", "shmem"} in bytes."""
        cls.open()
        text = os.pread(cls.status_fd, 16384, 0).decode()
        out = {}
        for line in text.splitlines():
            key, _, value = line.partition(":")
            name = _STATUS_KEYS.get(key)
            if name:
                out[name] = int(value.split()[0]) * 1024
        return out

    @classmethod
    def exact_heap(cls):
        """Fix glibc's mmap threshold at 128 KiB (the first time a PeakMemory is used).

        By default glibc raises the threshold to the size of any mmapped block it frees, so later
        blocks of that size come from the heap, where a freed block stays resident and the next
        one may land beside it: the high-water mark of a loop of 1 MiB tensors then counted freed
        ones as alive (a checkpointed stack peaked at 70 activations instead of 12). With a fixed
        threshold every block from 128 KiB up is mapped on allocation and unmapped on free, so
        resident memory follows the live blocks. Only processes that measure pay the page faults.
        """
        cls.open()
        if cls._mallopt is not None and not cls._exact:
            cls._exact = True
            cls._mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD; setting it disables the dynamic one

    @classmethod
    def trim(cls):
        """Give freed heap memory back to the OS, so resident memory is memory in use."""
        cls.open()
        if cls._trim is not None:
            cls._trim(0)

    @classmethod
    def reset_peak(cls):
        """Reset VmHWM to the current resident size (folding the old peak into open probes)."""
        cls.open()
        if cls.clear_fd is None:
            return False
        now = cls.read()
        for p in _active_of(PeakMemory):
            p._fold(now)
        os.write(cls.clear_fd, b"5")
        return True


_STATUS_KEYS = {"VmHWM": "hwm", "RssAnon": "anon", "RssFile": "file", "RssShmem": "shmem"}


class _Traced:
    """tracemalloc shared by nested probes: started once, its peak folded before each reset."""
    users = 0
    started_here = False

    @classmethod
    def enter(cls):
        if cls.users == 0:
            cls.started_here = not tracemalloc.is_tracing()
            if cls.started_here:
                _TRACEMALLOC["start"]()
        cls.users += 1
        current, peak = tracemalloc.get_traced_memory()
        for p in _active:
            if hasattr(p, "_tpeak"):
                p._tpeak = max(p._tpeak, peak)
        _TRACEMALLOC["reset_peak"]()
        return current

    @classmethod
    def exit(cls):
        """(current, peak) traced bytes; records tampering if tracing was stopped meanwhile."""
        tracing = tracemalloc.is_tracing()
        current, peak = tracemalloc.get_traced_memory() if tracing else (0, 0)
        cls.users -= 1
        if cls.users == 0 and cls.started_here and tracing:
            _TRACEMALLOC["stop"]()
        return tracing, current, peak


class PythonPeakMemory:
    """Peak bytes allocated through Python's allocator during the call, above the start level.

    tracemalloc: Python objects and every buffer allocated through Python's allocator API (numpy
    arrays included). Cannot see: torch storages and any other memory a C library allocates with
    malloc directly (use peak_memory for those); memory allocated before the call and reused.
    Stopping or restarting tracemalloc during the call is detected (the property fails).
    """

    def __enter__(self):
        self._tpeak = 0
        self._base = _Traced.enter()
        _active.append(self)
        return self

    def __exit__(self, *exc):
        _active.remove(self)
        tracing, _, peak = _Traced.exit()
        if not tracing:
            tampered(_TRACEMALLOC_STOPPED)
        self.peak = max(0, max(peak, self._tpeak) - self._base)

    def result(self):
        return self.peak


class PeakMemory:
    """Bytes really alive at the peak of the call, above the level at its start, from any library.

    Reads the kernel's counters of this process's resident memory: before the call the freed heap
    is given back to the OS (malloc_trim) and the resident high-water mark VmHWM is reset (write
    "5" to /proc/self/clear_refs); after it, the peak is VmHWM minus the resident file-backed pages
    (code of libraries, mapped files) minus the anonymous + shared memory resident at the start.
    That counts every page the call made resident and alive at once: torch storages, numpy
    buffers, Python objects, a C extension's malloc, memory of another thread. `end_bytes` is what
    is still resident at the end (after a malloc_trim), above the start.

    Large blocks are mapped and unmapped exactly (see _Proc.exact_heap), so freed memory is not
    counted as alive.

    Why this channel: the attempt cannot unhook it (no hook, tracer, dispatch mode or allocator
    callback of the attempt's process is involved). A saved_tensors_hooks meter sees nothing
    inside the attempt's own hooks, a torch dispatch mode nothing of numpy, tracemalloc no torch
    storage; this sees them all. Its one switch, resetting the peak mid-call, is refused: the guard
    denies the attempt any open of a clear_refs file (the probe's own descriptor is opened before
    the attempt loads) and the refusal fails the property. tracemalloc was evaluated as a
    complement and left out: its bookkeeping (~100 bytes per live block) is itself resident and
    overstates the peak of code with many small objects, and it doubles the time of tile loops.

    Cannot see: memory allocated before the call and reused during it (an import-time scratch
    buffer, a cache filled by an earlier call); pages of files mapped during the call (subtracted
    like code pages); memory never touched (an untouched `torch.empty` is not resident); swapped
    pages. Resolution is a page (4 KiB) plus allocator slack, and the first call of an op may
    leave ~0.3 MiB of lazily initialised state: compare with margins of a MiB, not bytes. Without
    /proc/self/clear_refs (not Linux) it falls back to tracemalloc's peak (Python and numpy only)
    and says so with `rss` False.
    """

    def _fold(self, now):
        self._max = max(self._max, now["hwm"] - now["file"])

    def __enter__(self):
        self._max = 0
        _Proc.exact_heap()
        _Proc.trim()
        self.rss = _Proc.reset_peak()
        if not self.rss and os.path.exists("/proc/self/status"):
            # Linux, but the high-water mark cannot be reset (a sandbox without its own /proc?):
            # tracemalloc alone would not see torch, so this must not grade anyone.
            engine_fault("peak_memory cannot reset /proc/self/clear_refs in this worker, so it "
                         "cannot measure (the grader's environment, not the attempt)")
        if not self.rss:
            self._fallback = PythonPeakMemory().__enter__()
        start = _Proc.read()
        self._base = start["anon"] + start["shmem"]
        self._file0 = start["file"]
        _active.append(self)
        return self

    def __exit__(self, *exc):
        now = _Proc.read()
        _active.remove(self)
        self._fold(now)
        if self.rss:
            peak = max(0, self._max - self._base)
        else:
            self._fallback.__exit__(*exc)
            peak = self._fallback.result()
        _Proc.trim()
        end = _Proc.read()
        self.reading = {"peak_bytes": peak,
                        "end_bytes": max(0, end["anon"] + end["shmem"] - self._base) if self.rss else 0,
                        "file_bytes": max(0, now["file"] - self._file0), "rss": self.rss}

    def result(self):
        return self.reading


_TRACEMALLOC_STOPPED = ("tracemalloc was stopped during a measured call: the memory probe cannot "
                        "see the call's allocations (a measured call may not control tracemalloc)")
