"""Grading configuration: one versioned JSON file per version of the rules (validated on load).

See ``accounting/data/grading/zhejiang-quzhou-v1.json`` for the values and their sources, and
:mod:`accounting.grading` for how they are applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from numpy.typing import NDArray

from accounting.datafile import load_json_object
from accounting.factors import canonical_sha256
from accounting.quality import QualityConfig, QualityConfigSchema, quality_config_from_data
from accounting.schema_errors import DataFileError, one_line
from accounting.vocab import CARBON_EFFICIENCY_GRADES, CarbonLabel, Colour

FloatArray = NDArray[np.float64]

DEFAULT_GRADING_CONFIG: Path = (
    Path(__file__).parent / "data" / "grading" / "zhejiang-quzhou-v1.json"
)
"""The grading rules shipped with the package."""
DIMENSIONS: tuple[str, ...] = (
    "industry_advancement",
    "regional_contribution",
    "historical_decline",
)
"""The three Quzhou dimensions, in column order."""
COLOURS: tuple[Colour, ...] = tuple(Colour)
"""Colour codes index this tuple (0 dark green ... 3 red; -1 none)."""
LABELS: tuple[CarbonLabel, ...] = tuple(CarbonLabel)
"""Label codes index this tuple (0 low, 1 medium, 2 high; -1 none)."""


class GradingConfigError(DataFileError):
    """The grading configuration is invalid."""


# --------------------------------------------------------------------------- configuration


class _DimensionSchema(Schema):
    x = fields.Str(required=True)
    points = fields.List(
        fields.Tuple((fields.Float(), fields.Float(validate=validate.Range(min=0, max=100)))),
        required=True,
        validate=validate.Length(min=2),
    )
    weight = fields.Float(required=True, validate=validate.Range(min=0))
    source = fields.Str(required=True)

    @validates_schema
    def _increasing(self, data: dict[str, Any], **_: Any) -> None:
        xs = [x for x, _ in data["points"]]
        if any(b <= a for a, b in pairwise(xs)):
            raise ValidationError("x values must strictly increase", "points")


class _CapSchema(Schema):
    min_grade = fields.Int(required=True, validate=validate.OneOf(CARBON_EFFICIENCY_GRADES))
    best_colour = fields.Str(required=True, validate=validate.OneOf([c.value for c in Colour]))
    source = fields.Str(required=True)


def _bounds_schema(name: str, keys: tuple[str, ...]) -> type[Schema]:
    spec: dict[str, fields.Field[Any]] = {
        k: fields.Float(required=True, validate=validate.Range(min=0)) for k in keys
    }
    spec["source"] = fields.Str(required=True)
    return Schema.from_dict(spec, name=name)


_Dimensions = Schema.from_dict(
    {d: fields.Nested(_DimensionSchema, required=True) for d in DIMENSIONS}, name="_Dimensions"
)


class _CarbonEfficiencySchema(Schema):
    k_upper_bounds = fields.List(fields.Float(validate=validate.Range(min=0)), required=True)
    source = fields.Str(required=True)

    @validates_schema
    def _four_increasing(self, data: dict[str, Any], **_: Any) -> None:
        b = data["k_upper_bounds"]
        if len(b) != len(CARBON_EFFICIENCY_GRADES) - 1 or b != sorted(set(b)):
            raise ValidationError("four strictly increasing upper bounds", "k_upper_bounds")


class _GradingSchema(Schema):
    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    description = fields.Str(required=True)
    carbon_efficiency = fields.Nested(_CarbonEfficiencySchema, required=True)
    carbon_label = fields.Nested(
        _bounds_schema("_LabelSchema", ("low_max", "medium_max")), required=True
    )
    dimensions = fields.Nested(_Dimensions, required=True)
    colours = fields.Nested(
        _bounds_schema("_ColoursSchema", ("dark_green", "light_green", "yellow")), required=True
    )
    caps = fields.List(fields.Nested(_CapSchema), required=True)
    data_quality = fields.Nested(QualityConfigSchema, required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        label = data["carbon_label"]
        if label["low_max"] >= label["medium_max"]:
            raise ValidationError("low_max must be below medium_max", "carbon_label")
        c = data["colours"]
        if not c["dark_green"] > c["light_green"] > c["yellow"]:
            raise ValidationError(
                "minimum scores must decrease dark_green > ... > yellow", "colours"
            )
        if sum(d["weight"] for d in data["dimensions"].values()) <= 0:
            raise ValidationError("at least one weight must be positive", "dimensions")


@dataclass(frozen=True)
class DimensionCurve:
    """One dimension: x -> 0-100 sub-score by linear interpolation, clamped outside."""

    name: str
    x: str
    """What x is (documentation)."""
    points_x: tuple[float, ...]
    points_score: tuple[float, ...]
    weight: float
    source: str

    def score(self, x: FloatArray) -> FloatArray:
        """Sub-scores of ``x`` (NaN stays NaN)."""
        out = np.interp(x, self.points_x, self.points_score)
        return np.where(np.isnan(x), np.nan, out)


@dataclass(frozen=True)
class ColourCap:
    """Entities with carbon-efficiency grade ≥ ``min_grade`` are at best ``best_colour``."""

    min_grade: int
    best_colour: Colour
    source: str


@dataclass(frozen=True)
class GradingConfig:
    """A version of the grading rules. Equal when version and content hash are equal."""

    version: str
    sha256: str
    description: str
    k_upper_bounds: tuple[float, ...]
    label_low_max: float
    """tCO2/10k yuan value added."""
    label_medium_max: float
    dimensions: tuple[DimensionCurve, ...]
    """In :data:`DIMENSIONS` order."""
    colour_min_scores: tuple[float, ...]
    """Minimum carbon score of dark green, light green, yellow (red below)."""
    caps: tuple[ColourCap, ...]
    quality: QualityConfig
    content: dict[str, Any]

    def __hash__(self) -> int:
        return hash((self.version, self.sha256))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GradingConfig):
            return NotImplemented
        return (self.version, self.sha256) == (other.version, other.sha256)

    @property
    def weights(self) -> FloatArray:
        """``(3,)`` configured dimension weights."""
        return np.array([d.weight for d in self.dimensions])

    def cap_table(self) -> NDArray[np.int8]:
        """Best colour index allowed per grade, indexed 0 (no grade) to 5."""
        table = np.zeros(max(CARBON_EFFICIENCY_GRADES) + 1, dtype=np.int8)
        for cap in self.caps:
            idx = COLOURS.index(cap.best_colour)
            table[cap.min_grade :] = np.maximum(table[cap.min_grade :], idx)
        return table


def grading_config_from_content(
    content: dict[str, Any], source: str = "grading config"
) -> GradingConfig:
    """Validate a grading document and build the config; errors name ``source`` and field."""
    try:
        data = _GradingSchema().load(content)
    except ValidationError as exc:
        raise GradingConfigError(one_line(exc.messages, source)) from None
    raw: dict[str, Any] = json.loads(json.dumps(content))  # a private copy in JSON types
    dims = tuple(
        DimensionCurve(
            name,
            d["x"],
            tuple(float(x) for x, _ in d["points"]),
            tuple(float(s) for _, s in d["points"]),
            d["weight"],
            d["source"],
        )
        for name, d in ((n, data["dimensions"][n]) for n in DIMENSIONS)
    )
    c = data["colours"]
    return GradingConfig(
        version=data["version"],
        sha256=canonical_sha256(raw),
        description=data["description"],
        k_upper_bounds=tuple(data["carbon_efficiency"]["k_upper_bounds"]),
        label_low_max=data["carbon_label"]["low_max"],
        label_medium_max=data["carbon_label"]["medium_max"],
        dimensions=dims,
        colour_min_scores=(c["dark_green"], c["light_green"], c["yellow"]),
        caps=tuple(
            ColourCap(x["min_grade"], Colour(x["best_colour"]), x["source"]) for x in data["caps"]
        ),
        quality=quality_config_from_data(data["data_quality"]),
        content=raw,
    )


def load_grading_config(path: Path | str = DEFAULT_GRADING_CONFIG) -> GradingConfig:
    """Load and validate a grading configuration file."""
    path = Path(path)
    content = load_json_object(path, GradingConfigError)
    return grading_config_from_content(content, path.name)
