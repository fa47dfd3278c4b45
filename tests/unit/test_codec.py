"""The boundary format: round trips for every supported value, and nothing executable."""
import math

import numpy as np
import pytest
import torch

from checker import codec


@pytest.mark.parametrize("value", [
    None, True, 0, -5, 10**30, 1.5, "héllo", b"\x00\xff", [1, [2, 3]], (1, (2,)), {"a": 1},
    {1: "x", (2, 3): [4]}, {"__t": 1, "b": 2}, [],
])
def test_plain_values_round_trip(value):
    assert codec.loads(codec.dumps(value)) == value


def test_non_finite_floats_round_trip():
    inf, ninf, nan = codec.loads(codec.dumps([math.inf, -math.inf, math.nan]))
    assert inf == math.inf and ninf == -math.inf and math.isnan(nan)


@pytest.mark.parametrize("arr", [
    np.array(1.5), np.arange(6, dtype=np.int32).reshape(2, 3), np.zeros((0, 4)),
    np.arange(12.0).reshape(3, 4).T, np.array([True, False]),
])
def test_numpy_arrays_keep_dtype_shape_values(arr):
    back = codec.loads(codec.dumps(arr))
    assert back.dtype == arr.dtype and back.shape == arr.shape and (back == arr).all()


def test_numpy_scalar_and_tensor_round_trip():
    assert codec.loads(codec.dumps(np.float32(2.5))) == np.float32(2.5)
    t = torch.arange(6, dtype=torch.float64).reshape(2, 3).T.requires_grad_(True)
    back = codec.loads(codec.dumps(t))
    assert back.dtype == t.dtype and back.shape == t.shape and back.requires_grad
    assert torch.equal(back.detach(), t.detach())
    b = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
    assert torch.equal(codec.loads(codec.dumps(b)), b)


def test_objects_cannot_cross_unless_lenient():
    with pytest.raises(codec.CodecError):
        codec.dumps(object())
    assert codec.loads(codec.dumps([object()], strict=False)) == [codec.Opaque("object")]


@pytest.mark.parametrize("raw", [
    b'{"__nd": ["object", [1], "AA=="]}',   # object arrays would unpickle: refused by name
    b'{"__pickle": "gASVAAAAAAAAAAA="}',     # an unknown tag is an error, never interpreted
    b'{"__nd": ["float64", [2], "AA=="]}',   # 1 byte cannot be two float64s
    b'not json',
])
def test_malformed_or_dangerous_messages_are_refused(raw):
    with pytest.raises(codec.CodecError):
        codec.loads(raw)


class _Tagged(int):
    """An int subclass: must take the item-by-item path, not the plain-list fast path."""


@pytest.mark.parametrize("items", [
    [1, -2, 3], [1.5, 2, -0.0], ["a", None, True], [],
    [1.0, float("inf"), float("nan")],   # non-finite floats need their tags
    [10**400, 0.5],                       # too large for a float check: item by item
    [_Tagged(3), 4], [(1, 2), [3]],
])
def test_lists_round_trip_through_the_fast_path_and_the_walk(items):
    back = codec.loads(codec.dumps(items))
    assert len(back) == len(items)
    for got, want in zip(back, items):
        if isinstance(want, float) and want != want:
            assert got != got
        else:
            assert got == want and type(got) in (type(want), int)
