"""Benchmarks: versioned intensity references per sector, industry code (GB/T 4754) and region.

A :class:`BenchmarkSet` is computed from a population's intensities (median or a configured
percentile, numpy's linear interpolation) or loaded from a JSON file. Values are kept at three
levels, each only where the group has at least ``min_n`` accounts (default 5):

1. ``(sector, industry_code, region, metric)``;
2. industry-wide ``(sector, industry_code, "*", metric)``;
3. sector-wide ``(sector, "*", "*", metric)``.

:meth:`BenchmarkSet.lookup` falls back from 1 to 3. Group statistics are vectorised (integer key
codes, one ``lexsort``, interpolation on group offsets): no Python loop over firms. The version of
a computed set is deterministic: ``BM-<period>-<method>-<first 8 hex of the content hash>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from marshmallow import Schema, ValidationError, fields, validate
from numpy.typing import ArrayLike, NDArray

from accounting.datafile import load_json_object
from accounting.factors import canonical_sha256
from accounting.schema_errors import DataFileError, one_line

FloatArray = NDArray[np.float64]
Key = tuple[str, str, str, str]
"""(sector, industry_code, region, metric)."""

WILDCARD = "*"
LEVELS: tuple[str, ...] = ("industry_region", "industry", "sector")
"""Lookup levels, most specific first."""
DEFAULT_MIN_N = 5


class BenchmarkError(DataFileError):
    """A benchmark file or record is invalid."""


class _ValueSchema(Schema):
    sector = fields.Str(required=True, validate=validate.Length(min=1))
    industry_code = fields.Str(required=True, validate=validate.Length(min=1))
    region = fields.Str(required=True, validate=validate.Length(min=1))
    metric = fields.Str(required=True, validate=validate.Length(min=1))
    value = fields.Float(required=True, validate=validate.Range(min=0))
    n = fields.Int(required=True, allow_none=True, validate=validate.Range(min=1))
    source = fields.Str(required=True)


class _BenchmarkSetSchema(Schema):
    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    method = fields.Str(required=True, validate=validate.Length(min=1))
    percentile = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    period = fields.Str(required=True, validate=validate.Regexp(r"^[0-9A-Za-z_.:/-]{1,32}$"))
    min_n = fields.Int(required=True, validate=validate.Range(min=1))
    source = fields.Str(required=True)
    values = fields.List(fields.Nested(_ValueSchema), required=True)


@dataclass(frozen=True)
class BenchmarkValue:
    """One benchmark intensity."""

    value: float
    """In the metric's unit (e.g. tCO2/10k yuan value added)."""
    n: int | None
    """Accounts it was computed from (None when loaded without a count)."""
    source: str


@dataclass(frozen=True)
class BenchmarkLookup:
    """The benchmark found for one entity, and where it came from."""

    value: float
    n: int | None
    level: str
    """One of :data:`LEVELS`."""
    key: Key
    source: str
    version: str


@dataclass(frozen=True)
class BenchmarkSet:
    """A versioned set of benchmarks. Equal when version and content hash are equal."""

    version: str
    sha256: str
    method: str = field(compare=False)
    """``median`` or ``p<percentile>``."""
    percentile: float = field(compare=False)
    period: str = field(compare=False)
    min_n: int = field(compare=False)
    source: str = field(compare=False)
    values: Mapping[Key, BenchmarkValue] = field(compare=False, repr=False)
    content: dict[str, Any] = field(compare=False, repr=False)

    def lookup(
        self, sector: str, industry_code: str, region: str, metric: str
    ) -> BenchmarkLookup | None:
        """The most specific benchmark with enough accounts, or None."""
        for level, key in zip(
            LEVELS, _fallback_keys(sector, industry_code, region, metric), strict=True
        ):
            entry = self.values.get(key)
            if entry is not None and (entry.n is None or entry.n >= self.min_n):
                return BenchmarkLookup(entry.value, entry.n, level, key, entry.source, self.version)
        return None

    def lookup_many(
        self, sectors: ArrayLike, industry_codes: ArrayLike, regions: ArrayLike, metric: str
    ) -> tuple[FloatArray, NDArray[np.int8]]:
        """Benchmarks for ``n`` entities: values ``(n,)`` (NaN if none), level index (-1 if none).

        Looks each distinct (sector, industry, region) up once.
        """
        cols = np.broadcast_arrays(
            *(np.asarray(a, dtype=object) for a in (sectors, industry_codes, regions))
        )
        n = cols[0].shape[0] if cols[0].ndim else 1
        triples = np.stack([np.atleast_1d(c).astype(str) for c in cols], axis=1).reshape(n, 3)
        unique, inverse = np.unique(triples, axis=0, return_inverse=True)
        values = np.full(len(unique), np.nan)
        levels = np.full(len(unique), -1, dtype=np.int8)
        for j, (s, ic, r) in enumerate(unique):  # one lookup per distinct group, not per firm
            found = self.lookup(str(s), str(ic), str(r), metric)
            if found is not None:
                values[j], levels[j] = found.value, LEVELS.index(found.level)
        inv = inverse.reshape(-1)
        return values[inv], levels[inv]


def _fallback_keys(
    sector: str, industry_code: str, region: str, metric: str
) -> tuple[Key, Key, Key]:
    return (
        (sector, industry_code, region, metric),
        (sector, industry_code, WILDCARD, metric),
        (sector, WILDCARD, WILDCARD, metric),
    )


def method_name(percentile: float) -> str:
    """``median`` for 50, else ``p<percentile>`` (e.g. ``p25``)."""
    return "median" if percentile == 50 else f"p{percentile:g}"


# --------------------------------------------------------------------------- computing


def group_percentile(
    codes: NDArray[np.int64], values: FloatArray, percentile: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], FloatArray]:
    """Percentile of ``values`` per group code (numpy ``linear`` method), vectorised.

    Returns
    -------
    groups, counts, percentiles
        Distinct codes (sorted), accounts per group, the percentile of each group.
    """
    order = np.lexsort((values, codes))
    c, v = codes[order], values[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]]) if len(c) else np.zeros(0, np.int64)
    counts = np.diff(np.r_[starts, len(c)])
    pos = (percentile / 100.0) * (counts - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts - 1)
    frac = pos - lo
    out = v[starts + lo] + (v[starts + hi] - v[starts + lo]) * frac
    return c[starts], counts.astype(np.int64), out


def _codes(column: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.int64]]:
    unique, inverse = np.unique(column, return_inverse=True)
    return unique, inverse.reshape(-1).astype(np.int64)


def compute_benchmarks(
    sectors: ArrayLike,
    industry_codes: ArrayLike,
    regions: ArrayLike,
    metrics: ArrayLike,
    intensities: ArrayLike,
    *,
    period: str,
    percentile: float = 50.0,
    min_n: int = DEFAULT_MIN_N,
    source: str = "computed from the period's carbon accounts",
) -> BenchmarkSet:
    """Benchmarks from a population of accounts (``(n,)`` arrays; scalars broadcast).

    Rows whose intensity is NaN, infinite or negative are left out. Groups with fewer than
    ``min_n`` accounts are not published at that level (lookups fall back a level).
    """
    vals = np.asarray(intensities, dtype=np.float64).reshape(-1)
    n = vals.shape[0]
    cols = [
        np.broadcast_to(np.asarray(a, dtype=str), (n,))
        for a in (sectors, industry_codes, regions, metrics)
    ]
    keep = np.isfinite(vals) & (vals >= 0)
    cols = [c[keep] for c in cols]
    entries = _level_entries(cols, vals[keep], percentile, min_n, period)
    content = {
        "method": method_name(percentile),
        "percentile": float(percentile),
        "period": period,
        "min_n": int(min_n),
        "source": source,
        "values": sorted(
            entries, key=lambda e: (e["metric"], e["sector"], e["industry_code"], e["region"])
        ),
    }
    content = {
        "version": f"BM-{period}-{content['method']}-{canonical_sha256(content)[:8]}",
        **content,
    }
    return benchmark_set_from_content(content)


def _level_entries(
    cols: list[NDArray[Any]], vals: FloatArray, percentile: float, min_n: int, period: str
) -> list[dict[str, Any]]:
    """Published entries of the three levels: integer key codes, one group-by per level."""
    uniq_codes = [_codes(c) for c in cols]
    sizes = [max(len(u), 1) for u, _ in uniq_codes]
    entries: list[dict[str, Any]] = []
    for level, wild in zip(LEVELS, ((), (2,), (1, 2)), strict=True):
        combined = np.zeros(len(vals), dtype=np.int64)
        for j, (_, inv) in enumerate(uniq_codes):  # four key columns, not rows
            combined = combined * sizes[j] + (0 if j in wild else inv)
        groups, counts, pcts = group_percentile(combined, vals, percentile)
        ok = counts >= min_n
        entries.extend(
            _entries(
                groups[ok], counts[ok], pcts[ok], uniq_codes, sizes, wild, level, percentile, period
            )
        )
    return entries


def _entries(
    groups: NDArray[np.int64],
    counts: NDArray[np.int64],
    pcts: FloatArray,
    uniq_codes: list[tuple[NDArray[Any], NDArray[np.int64]]],
    sizes: list[int],
    wild: tuple[int, ...],
    level: str,
    percentile: float,
    period: str,
) -> list[dict[str, Any]]:
    digits = []
    rest = groups.copy()
    for size in reversed(sizes):
        digits.append(rest % size)
        rest //= size
    digits.reverse()
    labels = [
        np.full(len(groups), WILDCARD, dtype=object) if j in wild else uniq_codes[j][0][digits[j]]
        for j in range(4)
    ]
    method = method_name(percentile)
    return [
        {
            "sector": str(s),
            "industry_code": str(ic),
            "region": str(r),
            "metric": str(m),
            "value": float(v),
            "n": int(c),
            "source": f"{method} of {int(c)} accounts ({level}), period {period}",
        }
        for s, ic, r, m, v, c in zip(*labels, pcts, counts, strict=True)  # one row per group
    ]


# --------------------------------------------------------------------------- files


def benchmark_set_from_content(
    content: Mapping[str, Any], source: str = "benchmark set"
) -> BenchmarkSet:
    """Validate a benchmark document and build the set; errors name ``source`` and field."""
    try:
        data = _BenchmarkSetSchema().load(dict(content))
    except ValidationError as exc:
        raise BenchmarkError(one_line(exc.messages, source)) from None
    values: dict[Key, BenchmarkValue] = {}
    for i, v in enumerate(data["values"]):
        key = (v["sector"], v["industry_code"], v["region"], v["metric"])
        if key in values:
            raise BenchmarkError(f"{source}: values[{i}]: duplicate key {key}")
        values[key] = BenchmarkValue(v["value"], v["n"], v["source"])
    raw = json.loads(json.dumps(dict(content)))
    return BenchmarkSet(
        version=data["version"],
        sha256=canonical_sha256(raw),
        method=data["method"],
        percentile=data["percentile"],
        period=data["period"],
        min_n=data["min_n"],
        source=data["source"],
        values=MappingProxyType(values),
        content=raw,
    )


def load_benchmark_set(path: Path | str) -> BenchmarkSet:
    """Load and validate a benchmark file."""
    path = Path(path)
    content = load_json_object(path, BenchmarkError)
    return benchmark_set_from_content(content, path.name)


def save_benchmark_set(benchmarks: BenchmarkSet, path: Path | str) -> None:
    """Write ``benchmarks`` as indented JSON (round-trips through :func:`load_benchmark_set`)."""
    text = json.dumps(benchmarks.content, ensure_ascii=False, indent=2, sort_keys=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- regional aggregates


def aggregate_intensity_by_group(
    groups: ArrayLike, emissions_tco2e: ArrayLike, denominators: ArrayLike
) -> FloatArray:
    """Σ emissions ÷ Σ denominator of each entity's group, returned per entity ``(n,)``.

    Entities with a missing (NaN) or non-positive denominator count in neither sum; a group with
    no valid denominator gets NaN. Used for the regional-contribution dimension.
    """
    g = np.asarray(groups, dtype=str).reshape(-1)
    e = np.asarray(emissions_tco2e, dtype=np.float64).reshape(-1)
    d = np.asarray(denominators, dtype=np.float64).reshape(-1)
    valid = np.isfinite(d) & (d > 0) & np.isfinite(e)
    _, inverse = np.unique(g, return_inverse=True)
    inv = inverse.reshape(-1)
    num = np.bincount(inv, weights=np.where(valid, e, 0.0))
    den = np.bincount(inv, weights=np.where(valid, d, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        agg = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return agg[inv]
