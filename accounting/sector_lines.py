"""Shared pieces of the sector methods (buildings, road transport, agriculture and forestry).

- :class:`SourceLine`: one non-energy emission source or sink of an account (activity × factor ×
  GWP), with the factor's source, so every number can be audited;
- :class:`SectorResult`: what a sector method adds to an account (lines, intensities, labels,
  reasons, reported figures) on top of the energy emissions;
- :class:`GwpSet` and :func:`load_gwp_sets`: the configurable GWP100 sets (AR5, AR6) from
  ``accounting/data/sectors/gwp-v1.json``;
- :func:`load_data_file`: read one versioned sector data file and validate it with a schema
  (unknown keys rejected; errors name the file and the field).

Emissions are tCO2e, positive; sinks are negative tCO2e lines (removals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from accounting.datafile import load_json_object
from accounting.factors import canonical_sha256
from accounting.grading_reasons import Reason
from accounting.intensity import Intensity
from accounting.schema_errors import DataFileError, one_line
from accounting.vocab import Sector

DEFAULT_SECTOR_DIR: Path = Path(__file__).parent / "data" / "sectors"
"""The sector data files shipped with the package."""

N2O_PER_N2O_N = 44.0 / 28.0
"""Mass ratio of N2O to its nitrogen (N2O-N -> N2O)."""


class SectorDataError(DataFileError):
    """A sector data file (factors, GWP sets) is invalid."""


@dataclass(frozen=True)
class DataFile:
    """A validated sector data file: its version, content hash and loaded data."""

    version: str
    sha256: str
    data: Mapping[str, Any] = field(repr=False)


def load_data_file(path: Path, schema: Schema) -> DataFile:
    """Load ``path`` (JSON) and validate it with ``schema``; errors name the file and field."""
    content = load_json_object(path, SectorDataError)
    try:
        data = schema.load(content)
    except ValidationError as exc:
        raise SectorDataError(one_line(exc.messages, path.name)) from None
    return DataFile(data["version"], canonical_sha256(content), MappingProxyType(data))


# --------------------------------------------------------------------------- GWP sets


class _GwpValuesSchema(Schema):
    ch4_fossil = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    ch4_non_fossil = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False)
    )
    n2o = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    source = fields.Str(required=True, validate=validate.Length(min=1))


class GwpFileSchema(Schema):
    """``gwp-v1.json``: named GWP100 sets and the default one."""

    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    description = fields.Str(required=True)
    default_set = fields.Str(required=True)
    sets = fields.Dict(
        keys=fields.Str(validate=validate.Length(min=1, max=16)),
        values=fields.Nested(_GwpValuesSchema),
        required=True,
        validate=validate.Length(min=1),
    )


@dataclass(frozen=True)
class GwpSet:
    """GWP100 values of one IPCC assessment report (CO2 = 1)."""

    name: str
    ch4_fossil: float
    ch4_non_fossil: float
    """Biogenic methane (livestock, manure, rice): the value agriculture uses."""
    n2o: float
    source: str
    file_version: str


@dataclass(frozen=True)
class GwpSets:
    """All GWP sets of one file, by name, and the default."""

    version: str
    sha256: str
    default: str
    sets: Mapping[str, GwpSet]

    def get(self, name: str | None) -> GwpSet:
        """The set called ``name`` (None: the default); KeyError names the known sets."""
        key = name or self.default
        try:
            return self.sets[key]
        except KeyError:
            known = ", ".join(sorted(self.sets))
            raise KeyError(f"unknown GWP set {key!r} (known: {known})") from None


def load_gwp_sets(path: Path = DEFAULT_SECTOR_DIR / "gwp-v1.json") -> GwpSets:
    """Load and validate a GWP file."""
    loaded = load_data_file(path, GwpFileSchema())
    data = loaded.data
    sets = {
        name: GwpSet(
            name, v["ch4_fossil"], v["ch4_non_fossil"], v["n2o"], v["source"], loaded.version
        )
        for name, v in data["sets"].items()
    }
    if data["default_set"] not in sets:
        raise SectorDataError(f"{path.name}: default_set: {data['default_set']!r} is not a set")
    return GwpSets(loaded.version, loaded.sha256, data["default_set"], MappingProxyType(sets))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SourceLine:
    """One non-energy emission source (positive tCO2e) or sink (negative tCO2e)."""

    source: str
    """Stable code: ``enteric_ch4``, ``manure_ch4``, ``manure_n2o``, ``rice_ch4``,
    ``fertiliser_n2o``, ``green_space_sink``, ``forest_sink``, ``orchard_sink``,
    ``organic_fertiliser``."""
    detail: str
    """What within the source: species, manure system, rice season, planting type..."""
    gas: str
    """``CH4``, ``N2O`` or ``CO2``."""
    activity: float
    """Activity data in ``activity_unit`` (head x years, ha x days, kg N, m2 x years...)."""
    activity_unit: str
    factor: float
    """Emission or removal factor in ``factor_unit`` (gas per unit of activity)."""
    factor_unit: str
    gas_t: float
    """Tonnes of the gas emitted (or of CO2 removed, for a sink)."""
    gwp: float
    tco2e: float
    """gas_t x gwp; negative for a sink."""
    factor_source: str

    @property
    def key(self) -> str:
        """``source:detail`` (or ``source``): the line's name in ``by_source``."""
        return f"{self.source}:{self.detail}" if self.detail else self.source


@dataclass(frozen=True)
class SectorResult:
    """What a sector method adds to an account, beyond the energy emissions."""

    sector: Sector
    method_version: str
    """Versions of the sector data files (and GWP set) used, e.g. ``AGRI-v1; GWP-v1:AR6``."""
    lines: tuple[SourceLine, ...]
    intensity: Intensity
    """All the sector's intensity metrics; ``primary`` is graded."""
    benchmark_group: tuple[str, str, str]
    """(sector, group code, region) the account is benchmarked in: building type and climate
    region for buildings, service type for transport, industry code and region otherwise."""
    labels: tuple[str, ...] = ()
    """Sector labels earned, e.g. ``carbon_neutral_farm``, ``new_energy_fleet``."""
    reasons: tuple[Reason, ...] = ()
    """Sector reasons appended to the grade's reasons."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Reported figures (JSON types): inputs as used, weather adjustment, fleet, net..."""

    @property
    def non_energy_tco2e(self) -> float:
        """Sum of the emission lines (positive), tCO2e."""
        return float(sum((line.tco2e for line in self.lines if line.tco2e > 0), 0.0))

    @property
    def sinks_tco2e(self) -> float:
        """Removals as a positive number, tCO2e."""
        return float(sum((-line.tco2e for line in self.lines if line.tco2e < 0), 0.0))
