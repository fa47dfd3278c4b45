"""Framing of messages between checker and worker: an 8-byte length, then a JSON body."""
from __future__ import annotations

import os
import struct

HEADER = struct.Struct(">Q")
MAX_MESSAGE = 512 * 1024 * 1024  # a reply larger than this is refused, not read into memory


def send(fd: int, body: bytes) -> None:
    data = HEADER.pack(len(body)) + body
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int) -> bytes:
    """Blocking read of n bytes; b'' if the other side closed first."""
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return b""
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
