"""Worker-side glue for online_softmax: hand softmax_stats a real one-shot stream, and measure.

It only reports (what came back, how the stream was read, peak memory); the suite judges.
"""
from __future__ import annotations

import numpy as np

from checker.probes import PeakMemory, PythonPeakMemory


class OneShot:
    """An iterator over chunks that can be read once; it counts reads after its end."""

    def __init__(self, chunks):
        self._it = iter(chunks)
        self.delivered = 0
        self.reads_after_end = 0
        self._ended = False

    def __iter__(self):
        return self

    def __next__(self):
        if self._ended:
            self.reads_after_end += 1
            raise StopIteration
        try:
            chunk = next(self._it)
        except StopIteration:
            self._ended = True
            raise
        self.delivered += 1
        return chunk


def _generator(chunks):
    yield from chunks


def stats(attempt, chunks, kind="iterator"):
    """softmax_stats over `chunks` handed over as a one-shot iterator, a generator, a list or a tuple."""
    chunks = list(chunks)
    shot = OneShot(chunks)
    stream = {"iterator": shot, "generator": _generator(shot), "list": chunks,
              "tuple": tuple(chunks)}[kind]
    value = attempt.softmax_stats(stream)
    return {"value": value, "delivered": shot.delivered, "reads_after_end": shot.reads_after_end}


def long_stream(attempt, n_chunks, chunk_len, seed, probe="python"):
    """softmax_stats over a stream made on the fly (chunks exist only while the attempt holds
    them), with the peak memory of the whole call: Python's allocator (numpy included) for
    probe="python", every resident byte whichever library holds it for probe="resident"."""
    rng = np.random.default_rng(seed)

    def chunks():
        for _ in range(n_chunks):
            yield rng.standard_normal(chunk_len) * 4.0

    meter = PythonPeakMemory() if probe == "python" else PeakMemory()
    with meter:
        value = attempt.softmax_stats(chunks())
    reading = meter.result()
    return {"value": value, "peak": reading if probe == "python" else reading["peak_bytes"]}


def merge_plan(attempt, leaves, plan):
    """Fold `leaves` (stats pairs) into one with merge_stats in the order `plan` says: at each step
    merge items[i] with items[j] (i first) and put the result where items[i] was."""
    items = [tuple(x) for x in leaves]
    results = []
    for a, b in plan:
        i, j = a % len(items), b % (len(items) - 1)
        if j >= i:
            j += 1
        merged = attempt.merge_stats(items[i], items[j])
        results.append(merged)
        items[i] = merged
        del items[j]
    return {"final": items[0] if len(items) == 1 else None, "steps": results}


def merge_pairs(attempt, pairs):
    """merge_stats on each (a, b) of `pairs`, in one round trip."""
    return [attempt.merge_stats(tuple(a), tuple(b)) for a, b in pairs]
