"""Worker-side probes, exercised directly (they are plain context managers)."""
from checker.probes import LineCount


def _loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


def test_line_count_grows_with_the_work():
    counts = []
    for n in (100, 800):
        with LineCount() as probe:
            _loop(n)
        counts.append(probe.result())
    assert 7.5 <= counts[1] / counts[0] <= 8.5


def test_line_count_stops_at_its_cap_and_the_call_still_finishes():
    with LineCount(cap=1000) as probe:
        result = _loop(100_000)
    assert result == sum(range(100_000))  # the rest of the call ran, untraced
    assert probe.result() == 1000


def test_peak_memory_sees_torch_numpy_and_python_and_nests():
    import numpy as np
    import torch

    from checker.probes import PeakMemory
    mib = 1 << 20
    with PeakMemory() as outer:
        a = torch.ones(1024, 1024, dtype=torch.float64)   # 8 MiB, freed before the inner probe
        del a
        with PeakMemory() as inner:
            b = np.ones((256, 1024))                      # 2 MiB, alive at the inner probe's end
        del b
        with PeakMemory() as lists:
            xs = [float(i) for i in range(200_000)]       # ~6 MiB of Python floats and pointers
            del xs
    assert 7.5 * mib <= outer.result()["peak_bytes"] <= 10 * mib
    assert 1.9 * mib <= inner.result()["peak_bytes"] <= 3 * mib
    assert inner.result()["end_bytes"] >= 1.9 * mib
    # Freed Python objects leave partly used allocator arenas behind: most, not all, is returned.
    assert lists.result()["peak_bytes"] >= 4 * mib
    assert lists.result()["end_bytes"] < 0.5 * lists.result()["peak_bytes"]


def test_tampering_seen_at_exit_is_reported_once():
    import sys

    from checker.probes import take_tampering
    take_tampering()

    def hide():
        sys._getframe().f_trace = None
        return _loop(1000)

    with LineCount() as probe:
        hide()
    messages = take_tampering()
    assert len(messages) == 1 and "f_trace" in messages[0]
    assert take_tampering() == []


def test_a_meter_that_cannot_reset_is_an_engine_fault(monkeypatch):
    """On Linux without a writable clear_refs the check must not be graded (it would be blind)."""
    import os

    from checker import probe_memory
    from checker.probes import PeakMemory, take_engine_faults
    if not os.path.exists("/proc/self/status"):
        return
    monkeypatch.setattr(probe_memory._Proc, "reset_peak", classmethod(lambda cls: False))
    with PeakMemory() as probe:
        pass
    assert probe.result()["rss"] is False
    faults = take_engine_faults()
    assert len(faults) == 1 and "clear_refs" in faults[0]
