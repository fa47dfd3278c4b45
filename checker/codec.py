"""Values that cross the worker boundary, as JSON.

Why JSON and not pickle: the checker decodes what an untrusted worker sends. Decoding JSON can only
build plain data (dicts, lists, numbers, strings) and, through the tags below, numpy arrays and torch
tensors from raw bytes. Nothing in a message can name a class to instantiate or code to run.

Tags (a one-key dict whose key starts with "__"):
  {"__f": "inf" | "-inf" | "nan"}          non-finite float
  {"__t": [...]}                           tuple
  {"__d": [[k, v], ...]}                   dict with non-string keys
  {"__b": base64}                          bytes
  {"__nd": [dtype, shape, base64]}         numpy array (C order)
  {"__ns": [dtype, base64]}                numpy scalar
  {"__pt": [dtype, shape, base64, grad]}   torch tensor (CPU, contiguous copy)
  {"__obj": type name}                     an object that has no data form (only its type is sent)
"""
from __future__ import annotations

import base64
import json
import math
import sys

# dtypes a message may name: an allow-list, so a message cannot ask for object arrays.
_NP_DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
}
_PT_DTYPES = {
    "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
    "complex64", "complex128",
}


class CodecError(ValueError):
    """A value that cannot cross the boundary, or a malformed message."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def to_data(value, *, strict: bool = True):
    """Turn a value into JSON-able data. strict=False replaces unknown objects by their type name."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"__f": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, tuple):
        return {"__t": [to_data(v, strict=strict) for v in value]}
    if isinstance(value, list):
        if _plain_json(value):
            return value  # already JSON data: no per-item walk (10^5-item lists cost 0.1 s a walk)
        return [to_data(v, strict=strict) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: to_data(v, strict=strict) for k, v in value.items()}
        return {"__d": [[to_data(k, strict=strict), to_data(v, strict=strict)] for k, v in value.items()]}
    if isinstance(value, (bytes, bytearray)):
        return {"__b": _b64(bytes(value))}
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            if value.dtype.name not in _NP_DTYPES:
                return _unknown(value, strict)
            arr = value if value.flags.c_contiguous else value.copy(order="C")  # keeps 0-d shape
            return {"__nd": [arr.dtype.name, list(arr.shape), _b64(arr.tobytes())]}
        if isinstance(value, np.generic) and value.dtype.name in _NP_DTYPES:
            return {"__ns": [value.dtype.name, _b64(value.tobytes())]}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return _tensor_to_data(torch, value, strict)
    return _unknown(value, strict)


_JSON_SCALARS = frozenset({int, str, bool, type(None)})


def _plain_json(items: list) -> bool:
    """True when every item is exactly an int, str, bool, None or finite float (no subclasses,
    which could encode themselves differently), checked at C speed."""
    kinds = set(map(type, items))
    if kinds <= _JSON_SCALARS:
        return True
    if kinds <= {int, float}:
        try:
            return all(map(math.isfinite, items))
        except OverflowError:  # an int too large for a float: the walk handles it
            return False
    return False


def _unknown(value, strict):
    if strict:
        raise CodecError(f"a value of type {type(value).__name__} cannot be sent")
    return {"__obj": type(value).__name__}


def _tensor_to_data(torch, t, strict):
    name = str(t.dtype).replace("torch.", "")
    if name not in _PT_DTYPES or t.layout != torch.strided:
        return _unknown(t, strict)
    grad = bool(t.requires_grad)
    with torch.no_grad():
        c = t.detach().to("cpu").contiguous()
        if name == "bfloat16":
            raw = c.view(torch.int16).numpy().tobytes()
        else:
            raw = c.numpy().tobytes()
    return {"__pt": [name, list(c.shape), _b64(raw), grad]}


def _decode_tag(obj):
    if len(obj) != 1:
        return obj
    (key, val), = obj.items()
    if not key.startswith("__"):
        return obj
    if key == "__f":
        return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}[val]
    if key == "__t":
        return tuple(val)
    if key == "__d":
        return {_hashable(k): v for k, v in val}
    if key == "__b":
        return base64.b64decode(val)
    if key == "__nd":
        import numpy as np
        dtype, shape, raw = val
        if dtype not in _NP_DTYPES:
            raise CodecError(f"dtype {dtype!r} not allowed")
        return np.frombuffer(base64.b64decode(raw), dtype=dtype).reshape(shape).copy()
    if key == "__ns":
        import numpy as np
        dtype, raw = val
        if dtype not in _NP_DTYPES:
            raise CodecError(f"dtype {dtype!r} not allowed")
        return np.frombuffer(base64.b64decode(raw), dtype=dtype)[0]
    if key == "__pt":
        return _tensor_from_data(*val)
    if key == "__obj":
        return Opaque(str(val))
    raise CodecError(f"unknown tag {key!r}")


def _hashable(k):
    return tuple(_hashable(x) for x in k) if isinstance(k, list) else k


def _tensor_from_data(dtype, shape, raw, grad):
    import numpy as np
    import torch
    if dtype not in _PT_DTYPES:
        raise CodecError(f"dtype {dtype!r} not allowed")
    buf = base64.b64decode(raw)
    if dtype == "bfloat16":
        t = torch.from_numpy(np.frombuffer(buf, dtype=np.int16).copy()).view(torch.bfloat16)
    else:
        t = torch.from_numpy(np.frombuffer(buf, dtype=dtype).copy())
    t = t.reshape(shape)
    if grad:
        t.requires_grad_(True)
    return t


class Opaque:
    """Stands for an object the other side could not send; only its type name is known."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"

    def __eq__(self, other):
        return isinstance(other, Opaque) and other.type_name == self.type_name

    __hash__ = None


def dumps(value, *, strict: bool = True) -> bytes:
    return json.dumps(to_data(value, strict=strict), allow_nan=False, separators=(",", ":")).encode()


def loads(raw: bytes):
    try:
        return json.loads(raw, object_hook=_decode_tag)
    except (ValueError, KeyError, TypeError) as exc:
        raise CodecError(f"malformed message: {exc}") from None
