"""State the worker-side probes share: the probes inside their `with` block, and the tampering
and engine faults they recorded (checker.probes explains them)."""
from __future__ import annotations

import tracemalloc

_active: list = []           # probes inside their `with` block, innermost last


class _Log:
    """Messages recorded once each until the worker takes them (and the log is emptied) to attach
    to its reply."""

    def __init__(self):
        self._messages: list[str] = []

    def record(self, message: str):
        if message not in self._messages:
            self._messages.append(message)

    def take(self) -> list[str]:
        out = list(self._messages)
        self._messages.clear()
        return out


# The attempt switched off or routed around a probe: the property fails.
_tampering = _Log()
tampered, take_tampering = _tampering.record, _tampering.take
# A probe could not measure for the engine's own reasons (not the attempt's): the check is not graded.
_faults = _Log()
engine_fault, take_engine_faults = _faults.record, _faults.take


def _active_of(cls):
    return [p for p in _active if isinstance(p, cls)]


# tracemalloc's own switches, taken before install() wraps them for the attempt.
_TRACEMALLOC = {n: getattr(tracemalloc, n) for n in ("start", "stop", "reset_peak", "clear_traces")}
