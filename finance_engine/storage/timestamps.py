"""ISO 8601 timestamps -> epoch seconds UTC, vectorised (pyarrow and numpy).

``YYYY-MM-DD[T ]hh:mm[:ss[.fff]]`` with an optional ``Z`` or ``+hh[:mm]`` offset; without one a
time is local wall-clock time in the configured zone. The usual layouts are read by position
straight from the Arrow string buffer; a capturing regular expression handles the rest.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from finance_engine.storage.timezones import wall_to_utc_s

_MAX_OFFSET_S = 14 * 3600
_TIMESTAMP = re.compile(
    r"^\s*(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[Tt ](?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2}))?(?P<frac>[.,]\d{1,9})?"
    r"\s*(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?\s*$"
)
_CANONICAL = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(Z|[+-]\d{2}:\d{2})?)?$"
"""The usual layouts (16, 19, 20 or 25 characters), whose parts sit at fixed positions."""


def _np(array: pa.Array | pa.ChunkedArray) -> NDArray[Any]:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _text_at(column: pa.Array, index: NDArray[np.intp]) -> list[Any]:
    return column.take(pa.array(index)).to_pylist() if len(index) else []


Parts = dict[str, NDArray[Any]]
"""Timestamp parts as numbers: ``y mo d h mi s oh om`` (int64), ``frac`` (float64 seconds),
``sign`` (+1, -1, or 0 without an offset) and ``z`` (bool, a ``Z`` suffix)."""


def _int(field: pa.Array) -> NDArray[np.int64]:
    """Digits -> int64 (empty -> 0)."""
    digits: NDArray[np.int64] = _np(
        pc.cast(pc.if_else(pc.equal(field, ""), "0", field), pa.int64())
    )
    return digits


def _days_from_civil(
    y: NDArray[np.int64], m: NDArray[np.int64], d: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    days: NDArray[np.int64] = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
    return days


def _wall_seconds(p: Parts) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Wall-clock seconds of the date and time parts, and whether they form a real date-time."""
    y, mo, d, h, mi, s = (p[g] for g in ("y", "mo", "d", "h", "mi", "s"))
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(mo, 0, 12)]
    month_days = month_days + (leap & (mo == 2))
    real = (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= month_days) & (h < 24) & (mi < 60) & (s < 60)
    days = _days_from_civil(y, np.clip(mo, 1, 12), d)
    seconds = days * 86_400 + h * 3600 + mi * 60 + s + np.rint(p["frac"]).astype(np.int64)
    return seconds, real


def _offsets(p: Parts) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.bool_]]:
    """UTC offset in seconds, whether one was given, and whether it is out of range."""
    offset = p["sign"] * (p["oh"] * 3600 + p["om"] * 60)
    given = (p["sign"] != 0) | p["z"]
    return offset, given, (p["om"] > 59) | (np.abs(offset) > _MAX_OFFSET_S)


def _canonical_parts(text: pa.Array) -> Parts:
    """Parts of canonical timestamps read by position from the string buffer (garbage on
    other rows, which the caller masks)."""
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset :]
    start, length = offsets[: len(text)].astype(np.int64), np.diff(offsets[: len(text) + 1])
    raw = text.buffers()[2]
    data = (
        np.frombuffer(raw, dtype=np.uint8)
        if raw is not None and raw.size
        else np.zeros(1, np.uint8)
    )

    last = len(data) - 1

    def digits(a: int, b: int) -> NDArray[np.int64]:
        out = np.zeros(len(start), dtype=np.int64)
        for k in range(a, b):  # over character positions (at most 4), not rows
            out = out * 10 + data[np.minimum(start + k, last)].astype(np.int64) - 48
        return out

    full = length == 25
    sign_char = data[np.minimum(start + 19, last)]
    parts: Parts = {
        g: digits(a, a + n)
        for g, a, n in (("y", 0, 4), ("mo", 5, 2), ("d", 8, 2), ("h", 11, 2), ("mi", 14, 2))
    }
    parts["s"] = np.where(length >= 19, digits(17, 19), 0)
    parts["oh"], parts["om"] = np.where(full, digits(20, 22), 0), np.where(full, digits(23, 25), 0)
    parts["sign"] = np.where(full, np.where(sign_char == ord("-"), -1, 1), 0)
    parts["z"], parts["frac"] = length == 20, np.zeros(len(text))
    return parts


def _general_parts(text: pa.Array) -> tuple[Parts, NDArray[np.bool_]]:
    """Parts of any timestamp the full pattern matches, through the (slower) capturing regex."""
    groups = pc.extract_regex(text, _TIMESTAMP.pattern)
    f = {name: groups.field(name).fill_null("") for name in _TIMESTAMP.groupindex}
    parts = {g: _int(f[g]) for g in ("y", "mo", "d", "h", "mi", "s", "oh", "om")}
    frac = pc.binary_join_element_wise("0", pc.replace_substring(f["frac"], ",", "."), "")
    parts["frac"] = _np(pc.cast(frac, pa.float64()))
    parts["sign"] = np.where(
        _np(pc.equal(f["sign"], "-")), -1, np.where(_np(pc.equal(f["sign"], "+")), 1, 0)
    )
    parts["z"] = _np(pc.not_equal(f["z"], ""))
    return parts, _np(groups.is_valid())


def _timestamp_parts(text: pa.Array) -> tuple[Parts, NDArray[np.bool_]]:
    """Timestamp parts of every row and which rows matched the pattern. Canonical layouts (see
    :data:`_CANONICAL`) are read by position; the capturing regex, much slower, runs only when
    some row has another layout."""
    canonical = _np(pc.match_substring_regex(text, _CANONICAL).fill_null(False))
    parts = _canonical_parts(text)
    if canonical.all():
        return parts, canonical
    general, matched = _general_parts(text)
    merged = {g: np.where(canonical, parts[g], general[g]) for g in parts}
    return merged, canonical | matched


def parse_timestamps(text: pa.Array, tz: ZoneInfo) -> tuple[NDArray[np.int64], dict[int, str]]:
    """ISO 8601 strings -> epoch seconds UTC, and the reason for each one that does not parse.

    ``YYYY-MM-DD[T ]hh:mm[:ss[.fff]]`` with an optional ``Z`` or ``+hh[:mm]`` offset; without
    one the time is local in ``tz``. Fractions of a second are rounded to the nearest second.
    """
    fields, matched = _timestamp_parts(text)
    wall, exact = _wall_seconds(fields)
    offset, given, out_of_range = _offsets(fields)
    valid = matched & exact
    bad_offset = valid & out_of_range
    utc = wall - offset
    naive = valid & ~given
    utc[naive] = wall_to_utc_s(wall[naive], tz)
    reasons: dict[int, str] = {}
    bad = np.flatnonzero(~valid | bad_offset)
    for i, value in zip(bad.tolist(), _text_at(text, bad), strict=True):
        if value is None or not value.strip():
            reasons[i] = "missing"
        elif not matched[i]:
            reasons[i] = f"{value!r} is not an ISO 8601 date and time"
        elif bad_offset[i]:
            reasons[i] = f"{value!r} has a UTC offset out of range"
        else:
            reasons[i] = f"{value!r} is not a valid date and time"
    return np.where(valid & ~bad_offset, utc, 0), reasons
