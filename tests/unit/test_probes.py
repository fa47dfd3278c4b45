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
