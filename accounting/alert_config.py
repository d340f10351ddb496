"""Alert thresholds: a versioned data file (``accounting/data/alerts/*.json``) and its loader.

Every threshold of :mod:`accounting.alerts` comes from this file, each section with its source.
The shipped defaults are design values (domain.md §6, marked [U]): Quzhou's own numeric thresholds
for abnormal use were not found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounting.datafile import load_json_object
from accounting.schema_errors import DataFileError, one_line

DEFAULT_ALERT_CONFIG_PATH: Path = Path(__file__).parent / "data" / "alerts" / "alerts-v1.json"
"""The alert configuration shipped with the package."""


class Severity(StrEnum):
    """How urgent an alert is, least first."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for critical."""
        return list(Severity).index(self)


class AlertConfigError(DataFileError):
    """An alert configuration file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class SeverityCuts:
    """Cut-offs from a measure (a ratio or a run length) to a severity.

    Attributes
    ----------
    warning:
        Values at or above this are at least ``warning``; below it ``info``.
    critical:
        Values at or above this are ``critical``.
    """

    warning: float
    critical: float

    def severity(self, value: float) -> Severity:
        """The severity of ``value`` (NaN counts as critical: nothing to compare against)."""
        if not value < self.critical:
            return Severity.CRITICAL
        return Severity.WARNING if value >= self.warning else Severity.INFO


@dataclass(frozen=True)
class AlertConfig:
    """Validated alert thresholds (one version of the configuration file).

    Attributes
    ----------
    version:
        Stable name of the configuration, e.g. ``alerts-v1``.
    baseline_weeks:
        How many previous weeks of the same weekday and slot form the baseline (4-8).
    min_weeks_present:
        Fewest non-missing baseline values for a baseline to exist.
    mad_k:
        Over-consumption needs actual > median + ``mad_k`` × 1.4826 × MAD.
    mad_floor_fraction_of_pooled:
        The slot's MAD is raised to at least this × the meter's pooled relative MAD × the
        slot's median (0 turns the floor off).
    min_relative_excess:
        ... and actual > median × (1 + ``min_relative_excess``).
    min_excess_fraction_of_typical:
        ... and actual − median ≥ this × the meter's typical interval quantity (the mean of its
        baseline medians), so near-zero baselines do not fire on noise.
    over_consumption_severity:
        Cut-offs on actual ÷ expected over the merged run.
    flat_line_min_intervals:
        Repeats of one non-zero value (consecutive intervals) that make a flat line.
    zero_min_intervals:
        Consecutive zero intervals that make a flat line where the baseline is non-zero.
    zero_baseline_min_fraction_of_typical:
        A baseline median at least this × the typical quantity counts as clearly non-zero.
    flat_line_severity:
        Cut-offs on the run length, intervals.
    gap_min_intervals:
        Consecutive missing intervals that make a gap alert.
    gap_severity:
        Cut-offs on the gap length, intervals.
    counter_reset_severity:
        Severity of every counter-reset alert.
    """

    version: str
    baseline_weeks: int = 6
    min_weeks_present: int = 3
    mad_k: float = 6.0
    mad_floor_fraction_of_pooled: float = 1.0
    min_relative_excess: float = 0.30
    min_excess_fraction_of_typical: float = 0.10
    over_consumption_severity: SeverityCuts = SeverityCuts(1.5, 3.0)
    flat_line_min_intervals: int = 16
    zero_min_intervals: int = 16
    zero_baseline_min_fraction_of_typical: float = 0.10
    flat_line_severity: SeverityCuts = SeverityCuts(32, 96)
    gap_min_intervals: int = 8
    gap_severity: SeverityCuts = SeverityCuts(16, 96)
    counter_reset_severity: Severity = Severity.WARNING


_SOURCE = fields.Str(required=True, validate=validate.Length(min=1))
_NON_NEG = validate.Range(min=0)


def _intervals(minimum: int = 1) -> fields.Int:
    return fields.Int(required=True, strict=True, validate=validate.Range(min=minimum, max=10_000))


class _CutsSchema(Schema):
    warning = fields.Float(required=True, validate=_NON_NEG)
    critical = fields.Float(required=True, validate=_NON_NEG)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["critical"] < data["warning"]:
            raise ValidationError("must not be below warning", "critical")


class _BaselineSchema(Schema):
    weeks = fields.Int(required=True, strict=True, validate=validate.Range(min=4, max=8))
    min_weeks_present = fields.Int(required=True, strict=True, validate=validate.Range(min=1))
    source = _SOURCE

    @validates_schema
    def _within_weeks(self, data: dict[str, Any], **_: Any) -> None:
        if data["min_weeks_present"] > data["weeks"]:
            raise ValidationError("must not exceed weeks", "min_weeks_present")


class _OverSchema(Schema):
    mad_k = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    mad_floor_fraction_of_pooled = fields.Float(required=True, validate=_NON_NEG)
    min_relative_excess = fields.Float(required=True, validate=_NON_NEG)
    min_excess_fraction_of_typical = fields.Float(required=True, validate=_NON_NEG)
    severity_ratio = fields.Nested(_CutsSchema, required=True)
    source = _SOURCE


class _FlatSchema(Schema):
    min_intervals = _intervals(2)
    zero_min_intervals = _intervals(2)
    zero_baseline_min_fraction_of_typical = fields.Float(required=True, validate=_NON_NEG)
    severity_intervals = fields.Nested(_CutsSchema, required=True)
    source = _SOURCE


class _GapSchema(Schema):
    min_intervals = _intervals(1)
    severity_intervals = fields.Nested(_CutsSchema, required=True)
    source = _SOURCE


class _ResetSchema(Schema):
    severity = fields.Str(required=True, validate=validate.OneOf([s.value for s in Severity]))
    source = _SOURCE


class _AlertConfigSchema(Schema):
    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    description = fields.Str(required=True)
    source = _SOURCE
    baseline = fields.Nested(_BaselineSchema, required=True)
    over_consumption = fields.Nested(_OverSchema, required=True)
    flat_line = fields.Nested(_FlatSchema, required=True)
    gap = fields.Nested(_GapSchema, required=True)
    counter_reset = fields.Nested(_ResetSchema, required=True)


def alert_config_from_content(
    content: Mapping[str, Any], source: str = "alert config"
) -> AlertConfig:
    """Validate an alert-configuration document (unknown keys rejected) and build the config.

    Raises
    ------
    AlertConfigError
        Naming ``source`` and every bad field, e.g. ``alerts-v1.json: gap.min_intervals: ...``.
    """
    try:
        data = _AlertConfigSchema().load(dict(content))
    except ValidationError as exc:
        raise AlertConfigError(one_line(exc.messages, source)) from None
    base, over, flat, gap = (
        data["baseline"],
        data["over_consumption"],
        data["flat_line"],
        data["gap"],
    )
    return AlertConfig(
        version=data["version"],
        baseline_weeks=base["weeks"],
        min_weeks_present=base["min_weeks_present"],
        mad_k=over["mad_k"],
        mad_floor_fraction_of_pooled=over["mad_floor_fraction_of_pooled"],
        min_relative_excess=over["min_relative_excess"],
        min_excess_fraction_of_typical=over["min_excess_fraction_of_typical"],
        over_consumption_severity=SeverityCuts(**over["severity_ratio"]),
        flat_line_min_intervals=flat["min_intervals"],
        zero_min_intervals=flat["zero_min_intervals"],
        zero_baseline_min_fraction_of_typical=flat["zero_baseline_min_fraction_of_typical"],
        flat_line_severity=SeverityCuts(**flat["severity_intervals"]),
        gap_min_intervals=gap["min_intervals"],
        gap_severity=SeverityCuts(**gap["severity_intervals"]),
        counter_reset_severity=Severity(data["counter_reset"]["severity"]),
    )


def load_alert_config(path: Path | str = DEFAULT_ALERT_CONFIG_PATH) -> AlertConfig:
    """Load and validate an alert-configuration file; errors name the file and the field."""
    path = Path(path)
    content = load_json_object(path, AlertConfigError)
    return alert_config_from_content(content, path.name)
