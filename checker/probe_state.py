"""State the worker-side probes share: the probes inside their `with` block and the tampering
they recorded (checker.probes explains both)."""
from __future__ import annotations

import tracemalloc

_tampering: list[str] = []   # messages not yet sent to the checker
_active: list = []           # probes inside their `with` block, innermost last



def tampered(message: str):
    """Record that the attempt switched off or routed around a probe (the property fails)."""
    if message not in _tampering:
        _tampering.append(message)


def take_tampering() -> list[str]:
    """The tampering recorded since the last call (the worker attaches it to its reply)."""
    out = list(_tampering)
    _tampering.clear()
    return out


_faults: list[str] = []      # a meter the engine could not set up: the check is not graded


def engine_fault(message: str):
    """Record that a probe could not measure for the engine's own reasons (not the attempt's)."""
    if message not in _faults:
        _faults.append(message)


def take_engine_faults() -> list[str]:
    out = list(_faults)
    _faults.clear()
    return out


def _active_of(cls):
    return [p for p in _active if isinstance(p, cls)]


# tracemalloc's own switches, taken before install() wraps them for the attempt.
_TRACEMALLOC = {n: getattr(tracemalloc, n) for n in ("start", "stop", "reset_peak", "clear_traces")}
