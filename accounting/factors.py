"""Effective-dated, versioned emission-factor sets.

One JSON file is one version (``accounting/data/factor_sets/*.json``). Every value carries its
source. A carbon account records the version it used and the shell stores the set's ``content``
(and ``sha256``) the first time it is used, so recomputing under an old version reproduces the
account exactly, and publishing a new set never changes an old one.

Effective dating: ``effective_from`` and ``effective_to`` are inclusive local dates.
``effective_to: null`` means *until superseded*: the set applies until the day before the next
set's ``effective_from``. Sets marked ``"legacy": true`` (e.g. ``CN-LEGACY-0.5703``) are never
chosen by date; they are selected by version only.

Formulas (units in the names):

- fuel: tCO2 per native unit = NCV × carbon content × oxidation rate × 44/12 × 1e-3
  (NCV in GJ/t, or GJ/10^4 m3 divided by 1e4 for natural gas per m3; carbon content tC/TJ);
- electricity: tCO2/kWh = grid factor (tCO2/MWh) / 1000;
- heat: tCO2/GJ from the set; steam: GJ = t × (enthalpy − reference enthalpy) × 1e-3, then heat.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounting.datafile import load_json_object
from accounting.energy import ACCEPTED_UNITS, FUELS, EnergyType, to_native
from accounting.schema_errors import DataFileError, one_line

DEFAULT_FACTOR_SET_DIR: Path = Path(__file__).parent / "data" / "factor_sets"
"""The factor sets shipped with the package."""

DEFAULT_GRID_REGION = "national"
"""The grid region used when an entity names none (MEE's national average factor)."""

CO2_PER_C = 44.0 / 12.0
"""Mass ratio of CO2 to carbon."""

NCV_UNITS: dict[str, str] = {"GJ/t": "t", "GJ/10^4 m3": "m3"}
"""Accepted NCV units and the native quantity unit each one implies."""

_NCV_TO_PER_NATIVE: dict[str, float] = {"GJ/t": 1.0, "GJ/10^4 m3": 1e-4}


class FactorSetError(DataFileError):
    """A factor set file or record is invalid, or a registry lookup failed."""


# --------------------------------------------------------------------------- schemas

_POSITIVE = validate.Range(min=0, min_inclusive=False)


class _FuelSchema(Schema):
    ncv = fields.Float(required=True, validate=_POSITIVE)
    ncv_unit = fields.Str(required=True, validate=validate.OneOf(sorted(NCV_UNITS)))
    carbon_content_tc_per_tj = fields.Float(required=True, validate=_POSITIVE)
    oxidation_rate = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    source = fields.Str(required=True, validate=validate.Length(min=1))


_FuelsSchema = Schema.from_dict(
    {t.value: fields.Nested(_FuelSchema) for t in sorted(FUELS)}, name="_FuelsSchema"
)


class _GridSchema(Schema):
    value = fields.Float(required=True, validate=validate.Range(min=0))
    source = fields.Str(required=True, validate=validate.Length(min=1))
    confirmed = fields.Bool(required=True)


class _HeatSchema(Schema):
    value = fields.Float(required=True, validate=validate.Range(min=0))
    source = fields.Str(required=True, validate=validate.Length(min=1))


class _SteamSchema(Schema):
    default_enthalpy_kj_per_kg = fields.Float(required=True, validate=_POSITIVE)
    reference_enthalpy_kj_per_kg = fields.Float(required=True, validate=validate.Range(min=0))
    source = fields.Str(required=True, validate=validate.Length(min=1))

    @validates_schema
    def _enthalpy_above_reference(self, data: dict[str, Any], **_: Any) -> None:
        if data["default_enthalpy_kj_per_kg"] <= data["reference_enthalpy_kj_per_kg"]:
            raise ValidationError(
                "must exceed reference_enthalpy_kj_per_kg", "default_enthalpy_kj_per_kg"
            )


class _FactorSetSchema(Schema):
    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    effective_from = fields.Date(required=True)
    effective_to = fields.Date(required=True, allow_none=True)
    legacy = fields.Bool(load_default=False)
    description = fields.Str(required=True)
    fuels = fields.Nested(_FuelsSchema, required=True)
    grid_electricity_tco2_per_mwh = fields.Dict(
        keys=fields.Str(validate=validate.Length(min=1)),
        values=fields.Nested(_GridSchema),
        required=True,
    )
    heat_tco2_per_gj = fields.Nested(_HeatSchema, required=True)
    steam = fields.Nested(_SteamSchema, required=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        end = data.get("effective_to")
        if end is not None and end < data["effective_from"]:
            raise ValidationError("must not be before effective_from", "effective_to")
        if DEFAULT_GRID_REGION not in data["grid_electricity_tco2_per_mwh"]:
            raise ValidationError(
                f"a {DEFAULT_GRID_REGION!r} region is required", "grid_electricity_tco2_per_mwh"
            )
        for name, fuel in data["fuels"].items():
            if NCV_UNITS[fuel["ncv_unit"]] != EnergyType(name).unit:
                raise ValidationError(
                    {name: {"ncv_unit": [f"{fuel['ncv_unit']} does not fit {name}"]}}, "fuels"
                )


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class FuelFactor:
    """GB/T 32150-style defaults of one fuel."""

    ncv: float
    """Net calorific value, in ``ncv_unit``."""
    ncv_unit: str
    """``GJ/t`` or ``GJ/10^4 m3``."""
    carbon_content_tc_per_tj: float
    """Carbon content per unit of heat, tC/TJ."""
    oxidation_rate: float
    """Fraction of carbon oxidised, 0-1."""
    source: str

    @property
    def tco2_per_native_unit(self) -> float:
        """Emission factor, tCO2 per t (or per m3 for natural gas)."""
        gj_per_unit = self.ncv * _NCV_TO_PER_NATIVE[self.ncv_unit]
        return gj_per_unit * self.carbon_content_tc_per_tj * 1e-3 * self.oxidation_rate * CO2_PER_C

    @property
    def basis(self) -> str:
        """How the factor is derived, for auditors."""
        return (
            f"NCV {self.ncv:g} {self.ncv_unit} x CC {self.carbon_content_tc_per_tj:g} tC/TJ"
            f" x OF {self.oxidation_rate:g} x 44/12"
        )


@dataclass(frozen=True)
class GridFactor:
    """One grid-electricity factor."""

    region: str
    value_tco2_per_mwh: float
    source: str
    confirmed: bool
    """False where the value is only partly confirmed or a legacy/unconfirmed default."""


@dataclass(frozen=True)
class FactorUsed:
    """The factor an account applied to one energy type (recorded in the account)."""

    energy_type: str
    value: float
    """tCO2 per ``unit`` quantity."""
    unit: str
    """e.g. ``tCO2/t``, ``tCO2/kWh``, ``tCO2/GJ``."""
    source: str
    basis: str
    """The published inputs the value is derived from."""


@dataclass(frozen=True)
class FactorSet:
    """One version of the emission factors. Equal when version and content hash are equal."""

    version: str
    sha256: str
    """SHA-256 of the canonical JSON of ``content``."""
    effective_from: date = field(compare=False)
    effective_to: date | None = field(compare=False)
    """Inclusive last day, or None: until superseded by a later set."""
    legacy: bool = field(compare=False)
    description: str = field(compare=False)
    fuels: Mapping[EnergyType, FuelFactor] = field(compare=False, repr=False)
    grid: Mapping[str, GridFactor] = field(compare=False, repr=False)
    heat_tco2_per_gj: float = field(compare=False, repr=False)
    heat_source: str = field(compare=False, repr=False)
    steam_default_enthalpy_kj_per_kg: float = field(compare=False, repr=False)
    steam_reference_enthalpy_kj_per_kg: float = field(compare=False, repr=False)
    steam_source: str = field(compare=False, repr=False)
    content: dict[str, Any] = field(compare=False, repr=False)
    """The validated document exactly as published (a private copy in JSON types): what the shell
    stores. Do not mutate it; :func:`factor_set_from_content` rebuilds the set from a copy."""

    def steam_gj_per_t(self, enthalpy_kj_per_kg: float | None = None) -> float:
        """Heat content of steam, GJ/t: (enthalpy − reference) × 1e-3; default enthalpy if None."""
        h = (
            self.steam_default_enthalpy_kj_per_kg
            if enthalpy_kj_per_kg is None
            else enthalpy_kj_per_kg
        )
        if h <= self.steam_reference_enthalpy_kj_per_kg:
            raise ValueError(f"steam enthalpy {h} kJ/kg is not above the reference enthalpy")
        return (h - self.steam_reference_enthalpy_kj_per_kg) * 1e-3

    def grid_factor(self, region: str = DEFAULT_GRID_REGION) -> GridFactor:
        """The grid factor of ``region`` (``""`` means national); ValueError names the options."""
        key = region or DEFAULT_GRID_REGION
        try:
            return self.grid[key]
        except KeyError:
            known = ", ".join(sorted(self.grid))
            raise FactorSetError(
                f"factor set {self.version} has no grid factor for region {key!r} (known: {known})"
            ) from None

    def factor(
        self,
        energy_type: EnergyType | str,
        grid_region: str = DEFAULT_GRID_REGION,
        unit: str | None = None,
    ) -> tuple[float, FactorUsed]:
        """The emission factor of ``energy_type``: tCO2 per ``unit`` (default: native unit).

        Electricity accepts ``kWh`` or ``MWh``; steam ``t`` (default enthalpy) or ``GJ``;
        natural gas ``m3`` or ``10^4 m3``. On-site renewables are zero-carbon.
        """
        etype = EnergyType(energy_type)
        unit = unit or etype.unit
        value, basis, source = self._per_native_or_gj(etype, grid_region, unit)
        used = FactorUsed(etype.value, value, f"tCO2/{unit}", source, basis)
        return value, used

    def _per_native_or_gj(
        self, etype: EnergyType, region: str, unit: str
    ) -> tuple[float, str, str]:
        _check_unit(etype, unit)
        if etype is EnergyType.STEAM:
            return self._steam(unit)
        per_unit = to_native(etype, 1.0, unit)  # native units in one ``unit``
        if etype in FUELS:
            fuel = self.fuels.get(etype)
            if fuel is None:
                raise FactorSetError(f"factor set {self.version} has no factor for {etype.value}")
            return fuel.tco2_per_native_unit * per_unit, fuel.basis, fuel.source
        if etype is EnergyType.ELECTRICITY:
            grid = self.grid_factor(region)
            basis = f"grid {grid.region} {grid.value_tco2_per_mwh:g} tCO2/MWh"
            return grid.value_tco2_per_mwh * 1e-3 * per_unit, basis, grid.source
        if etype is EnergyType.HEAT:
            return self.heat_tco2_per_gj, "purchased heat", self.heat_source
        return 0.0, "on-site renewable generation is zero-carbon", "GHG Protocol scope 2 guidance"

    def _steam(self, unit: str) -> tuple[float, str, str]:
        if unit == "GJ":
            return self.heat_tco2_per_gj, "steam heat content x heat factor", self.heat_source
        basis = (
            f"({self.steam_default_enthalpy_kj_per_kg:g} - "
            f"{self.steam_reference_enthalpy_kj_per_kg:g}) kJ/kg x 1e-3 GJ/t x "
            f"{self.heat_tco2_per_gj:g} tCO2/GJ"
        )
        value = self.steam_gj_per_t() * self.heat_tco2_per_gj
        return value, basis, f"{self.steam_source}; {self.heat_source}"


def _check_unit(etype: EnergyType, unit: str) -> None:
    if unit not in ACCEPTED_UNITS[etype]:
        allowed = ", ".join(sorted(ACCEPTED_UNITS[etype]))
        raise ValueError(f"unit {unit!r} is not valid for {etype.value}; use one of {allowed}")


def canonical_sha256(content: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of ``content`` as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def factor_set_from_content(content: Mapping[str, Any], source: str = "factor set") -> FactorSet:
    """Validate a factor-set document and build the :class:`FactorSet` (also from a DB record).

    Raises
    ------
    FactorSetError
        Naming ``source`` and every bad field, e.g. ``CN-2022.json: fuels.coke.ncv: ...``.
    """
    try:
        data = _FactorSetSchema().load(dict(content))
    except ValidationError as exc:
        raise FactorSetError(one_line(exc.messages, source)) from None
    raw = json.loads(json.dumps(dict(content)))  # a private deep copy in JSON types
    fuels = {EnergyType(k): FuelFactor(**v) for k, v in data["fuels"].items()}
    grid = {
        k: GridFactor(k, v["value"], v["source"], v["confirmed"])
        for k, v in data["grid_electricity_tco2_per_mwh"].items()
    }
    steam = data["steam"]
    return FactorSet(
        version=data["version"],
        sha256=canonical_sha256(raw),
        effective_from=data["effective_from"],
        effective_to=data["effective_to"],
        legacy=data["legacy"],
        description=data["description"],
        fuels=MappingProxyType(fuels),
        grid=MappingProxyType(grid),
        heat_tco2_per_gj=data["heat_tco2_per_gj"]["value"],
        heat_source=data["heat_tco2_per_gj"]["source"],
        steam_default_enthalpy_kj_per_kg=steam["default_enthalpy_kj_per_kg"],
        steam_reference_enthalpy_kj_per_kg=steam["reference_enthalpy_kj_per_kg"],
        steam_source=steam["source"],
        content=raw,
    )


def load_factor_set(path: Path | str) -> FactorSet:
    """Load and validate one factor-set file; errors name the file and the field."""
    path = Path(path)
    content = load_json_object(path, FactorSetError)
    return factor_set_from_content(content, path.name)


class FactorSetRegistry:
    """Factor sets by version, with effective-date lookup. Refuses duplicates and overlaps."""

    def __init__(self, factor_sets: Iterable[FactorSet]) -> None:
        self._by_version: dict[str, FactorSet] = {}
        for fs in factor_sets:
            if fs.version in self._by_version:
                raise FactorSetError(f"duplicate factor set version {fs.version!r}")
            self._by_version[fs.version] = fs
        self._dated = sorted(
            (fs for fs in self._by_version.values() if not fs.legacy),
            key=lambda fs: fs.effective_from,
        )
        for earlier, later in pairwise(self._dated):
            ends_before = (
                earlier.effective_to is not None and earlier.effective_to < later.effective_from
            )
            open_ended = (
                earlier.effective_to is None and earlier.effective_from < later.effective_from
            )
            if not (ends_before or open_ended):
                raise FactorSetError(
                    f"factor sets {earlier.version!r} and {later.version!r} have overlapping "
                    "effective ranges"
                )
        self._starts = [fs.effective_from for fs in self._dated]

    def get(self, version: str) -> FactorSet:
        """The set of ``version``; FactorSetError lists the known versions."""
        try:
            return self._by_version[version]
        except KeyError:
            known = ", ".join(sorted(self._by_version))
            raise FactorSetError(
                f"unknown factor set version {version!r} (known: {known})"
            ) from None

    def effective_on(self, day: date) -> FactorSet:
        """The non-legacy set in force on ``day``; FactorSetError if none is."""
        i = bisect.bisect_right(self._starts, day) - 1
        if i >= 0:
            fs = self._dated[i]
            if fs.effective_to is None or day <= fs.effective_to:
                return fs
        raise FactorSetError(f"no factor set is effective on {day.isoformat()}")

    @property
    def versions(self) -> tuple[str, ...]:
        """All versions, sorted."""
        return tuple(sorted(self._by_version))

    def __iter__(self) -> Iterator[FactorSet]:
        return iter(self._by_version[v] for v in self.versions)

    def __len__(self) -> int:
        return len(self._by_version)

    def __contains__(self, version: object) -> bool:
        return version in self._by_version


def load_factor_set_dir(path: Path | str = DEFAULT_FACTOR_SET_DIR) -> FactorSetRegistry:
    """Load every ``*.json`` file of ``path`` into a registry (sorted by file name)."""
    files = sorted(Path(path).glob("*.json"))
    if not files:
        raise FactorSetError(f"{path}: no factor set files (*.json)")
    return FactorSetRegistry([load_factor_set(f) for f in files])
