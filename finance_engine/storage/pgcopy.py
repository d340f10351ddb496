"""PostgreSQL binary COPY streams built with numpy (no Python loop over rows).

A binary COPY stream is a 19-byte header, then per row an int16 field count and, per field, an
int32 byte length followed by the big-endian value, then an int16 -1 trailer. With fixed-width,
non-null fields every row has the same layout, so a numpy structured array *is* the stream.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"

PG_TYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8"}
"""PostgreSQL types this module handles, and their big-endian numpy dtypes."""


def _row_dtype(types: Sequence[str]) -> np.dtype[np.void]:
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for i, pg_type in enumerate(types):
        fields += [(f"len{i}", ">i4"), (f"v{i}", PG_TYPES[pg_type])]
    return np.dtype(fields)


def encode(columns: Sequence[NDArray[np.generic]], types: Sequence[str]) -> bytes:
    """A complete binary COPY stream of ``columns`` (equal length, no NULLs).

    Parameters
    ----------
    columns:
        One array per field, in the COPY column order.
    types:
        The PostgreSQL type of each field (``int2``, ``int4``, ``int8``, ``float8``).
    """
    if len(columns) != len(types):
        raise ValueError("encode: one type per column")
    dtype = _row_dtype(types)
    rows = np.empty(len(columns[0]) if columns else 0, dtype=dtype)
    rows["n"] = len(columns)
    for i, (column, pg_type) in enumerate(zip(columns, types, strict=True)):
        rows[f"len{i}"] = np.dtype(PG_TYPES[pg_type]).itemsize
        rows[f"v{i}"] = column
    return HEADER + rows.tobytes() + TRAILER
