"""PostgreSQL binary COPY streams built with numpy (no Python loop over rows).

A binary COPY stream is a 19-byte header, then per row an int16 field count and, per field, an
int32 byte length followed by the big-endian value, then an int16 -1 trailer. With fixed-width,
non-null fields every row has the same layout, so a numpy structured array *is* the stream.
``bytea`` fields of one length per column (packed arrays) are fixed-width too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"

PG_TYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8"}
"""Numeric PostgreSQL types this module handles, and their big-endian numpy dtypes; ``bytea``
is handled too (see :func:`encode`)."""


def _as_bytes(column: NDArray[Any]) -> NDArray[np.uint8]:
    """``(n, width)`` bytes of a bytea column given as ``(n, ...)`` array of any dtype."""
    data = np.ascontiguousarray(column)
    return data.view(np.uint8).reshape(len(data), -1)


def encode(columns: Sequence[NDArray[Any]], types: Sequence[str]) -> bytes:
    """A complete binary COPY stream of ``columns`` (equal length, no NULLs).

    Parameters
    ----------
    columns:
        One array per field, in the COPY column order. A ``bytea`` field is an ``(n, ...)``
        array whose row ``i`` in memory order is the value of row ``i`` (its bytes are sent
        as they are, so pick the byte order of the stored format).
    types:
        The PostgreSQL type of each field (``int2``, ``int4``, ``int8``, ``float8``, ``bytea``).
    """
    if len(columns) != len(types):
        raise ValueError("encode: one type per column")
    values = [
        _as_bytes(c) if t == "bytea" else np.asarray(c) for c, t in zip(columns, types, strict=True)
    ]
    fields: list[tuple[Any, ...]] = [("n", ">i2")]
    for i, (value, pg_type) in enumerate(zip(values, types, strict=True)):
        if pg_type == "bytea":
            fields += [(f"len{i}", ">i4"), (f"v{i}", np.uint8, (value.shape[1],))]
        else:
            fields += [(f"len{i}", ">i4"), (f"v{i}", PG_TYPES[pg_type])]
    dtype = np.dtype(fields)
    rows = np.empty(len(values[0]) if values else 0, dtype=dtype)
    rows["n"] = len(values)
    for i, value in enumerate(values):
        rows[f"len{i}"] = dtype[f"v{i}"].itemsize
        rows[f"v{i}"] = value
    return HEADER + rows.tobytes() + TRAILER
