"""Judging the worker-side probes' readings (checker.probes) in a suite, one rule per probe."""
from __future__ import annotations

from checker.suite import expect


def expect_tensors_within(sizes: dict, limit: int, rule: str, *, named: str = "", strict: bool = False):
    """A `tensor_sizes` reading: no tensor an aten operator made has more than `limit` elements
    (none has `limit` or more when strict). `named` says what the limit is ("Nq·Nk"); the failure
    shows the largest tensor and the operator that made it."""
    largest = sizes["max_numel"]
    bound = f"{named} = {limit}" if named else f"{limit}"
    expect(largest < limit if strict else largest <= limit, rule,
           expected=f"every tensor {'<' if strict else '≤'} {bound} elements",
           got=f"{largest} elements, made by aten.{sizes['max_op']}")
