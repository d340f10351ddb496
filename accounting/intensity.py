"""Intensity metrics: emissions per unit of value added, output value, product or energy supplied.

Metric codes are stable (they key benchmarks):

- industry: ``tco2_per_10k_yuan_value_added`` (primary, graded), ``tco2_per_10k_yuan_output_value``
  and ``tco2_per_product:<name>`` per unit of each product given;
- energy producers: ``tco2_per_mwh_supplied`` (electricity only), ``tco2_per_gj_heat_supplied``
  (heat only) or, for a combined heat-and-power producer, ``tco2_per_mwh_equivalent_supplied``
  with heat converted at 3.6 GJ = 1 MWh (energy-content equivalence: no allocation between the
  two products is assumed, and producers of both are benchmarked against each other on this
  metric). Value added, if given, also yields the per-10k-yuan metric and the carbon label.

Sector metrics (the sector modules compute them; codes key the sector benchmarks):

- buildings (GB/T 51366 operation stage): ``kgco2_per_m2_year`` (primary: annualised, net of the
  green-space sink, weather-normalised when degree days are given) and
  ``kgco2_per_m2_year_unadjusted`` (the same before weather normalisation);
- road transport: ``kgco2_per_100_tkm`` (freight, primary for freight firms) and
  ``kgco2_per_100_pkm`` (passenger, primary for passenger firms);
- agriculture and forestry (gross emissions, energy plus CH4/N2O in CO2e): ``tco2e_per_head``
  (primary when livestock is kept), ``tco2e_per_ha`` (primary otherwise, when an area is given)
  and ``tco2e_per_10k_yuan_output``; the net figure (emissions − sinks) is reported beside them.

A metric whose denominator is missing or not positive has value None (never a division by 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from accounting.vocab import Sector

GJ_PER_MWH = 3.6
"""Energy-content equivalence used for combined heat-and-power producers."""

VALUE_ADDED = "tco2_per_10k_yuan_value_added"
OUTPUT_VALUE = "tco2_per_10k_yuan_output_value"
PER_MWH = "tco2_per_mwh_supplied"
PER_GJ_HEAT = "tco2_per_gj_heat_supplied"
PER_MWH_EQ = "tco2_per_mwh_equivalent_supplied"
PRODUCT_PREFIX = "tco2_per_product:"
BUILDING_PER_M2 = "kgco2_per_m2_year"
BUILDING_PER_M2_UNADJUSTED = "kgco2_per_m2_year_unadjusted"
FREIGHT_PER_100_TKM = "kgco2_per_100_tkm"
PASSENGER_PER_100_PKM = "kgco2_per_100_pkm"
AGRI_PER_HEAD = "tco2e_per_head"
AGRI_PER_HA = "tco2e_per_ha"
AGRI_PER_OUTPUT = "tco2e_per_10k_yuan_output"

METRIC_UNITS: dict[str, str] = {
    VALUE_ADDED: "tCO2/10k yuan",
    OUTPUT_VALUE: "tCO2/10k yuan",
    PER_MWH: "tCO2/MWh",
    PER_GJ_HEAT: "tCO2/GJ",
    PER_MWH_EQ: "tCO2/MWh-eq",
    BUILDING_PER_M2: "kgCO2/(m2 a)",
    BUILDING_PER_M2_UNADJUSTED: "kgCO2/(m2 a)",
    FREIGHT_PER_100_TKM: "kgCO2/100 t-km",
    PASSENGER_PER_100_PKM: "kgCO2/100 p-km",
    AGRI_PER_HEAD: "tCO2e/head",
    AGRI_PER_HA: "tCO2e/ha",
    AGRI_PER_OUTPUT: "tCO2e/10k yuan",
}


@dataclass(frozen=True)
class Product:
    """Physical output of one product over the period."""

    name: str
    unit: str
    quantity: float


@dataclass(frozen=True)
class Activity:
    """Activity data: the denominators of intensities. Money in 10k yuan (Decimal)."""

    value_added_10k_yuan: Decimal | None = None
    output_value_10k_yuan: Decimal | None = None
    products: tuple[Product, ...] = ()
    electricity_supplied_mwh: float | None = None
    heat_supplied_gj: float | None = None


@dataclass(frozen=True)
class IntensityMetric:
    """One intensity: emissions per unit of a denominator (value None if not computable)."""

    metric: str
    value: float | None
    unit: str
    denominator: float | None
    denominator_unit: str


@dataclass(frozen=True)
class Intensity:
    """All intensities of an account; ``primary`` is the one graded."""

    primary: IntensityMetric
    metrics: tuple[IntensityMetric, ...]

    def get(self, metric: str) -> IntensityMetric | None:
        """The metric of code ``metric``, if computed."""
        return next((m for m in self.metrics if m.metric == metric), None)


def _ratio_metric(
    metric: str, total: float, den: float | None, den_unit: str, unit: str
) -> IntensityMetric:
    value = total / den if den is not None and den > 0 else None
    return IntensityMetric(metric, value, unit, den, den_unit)


def sector_metric(
    metric: str, numerator: float, denominator: float | None, denominator_unit: str
) -> IntensityMetric:
    """``numerator ÷ denominator`` as metric ``metric`` (unit from :data:`METRIC_UNITS`).

    The caller scales the numerator to the metric's unit (e.g. kgCO2 x 100 for per 100 t-km);
    the value is None where the denominator is missing or not positive.
    """
    return _ratio_metric(metric, numerator, denominator, denominator_unit, METRIC_UNITS[metric])


def value_added_metric(total_tco2e: float, activity: Activity) -> IntensityMetric | None:
    """tCO2 per 10k yuan value added (the carbon label's intensity), if value added is given."""
    va = activity.value_added_10k_yuan
    if va is None:
        return None
    return _ratio_metric(VALUE_ADDED, total_tco2e, float(va), "10k yuan", METRIC_UNITS[VALUE_ADDED])


def compute_intensities(sector: Sector, total_tco2e: float, activity: Activity) -> Intensity:
    """Intensity metrics of an account and the primary (graded) one (see the module doc)."""
    va = float(activity.value_added_10k_yuan) if activity.value_added_10k_yuan is not None else None
    ov = (
        float(activity.output_value_10k_yuan)
        if activity.output_value_10k_yuan is not None
        else None
    )
    metrics = [
        _ratio_metric(VALUE_ADDED, total_tco2e, va, "10k yuan", METRIC_UNITS[VALUE_ADDED]),
        _ratio_metric(OUTPUT_VALUE, total_tco2e, ov, "10k yuan", METRIC_UNITS[OUTPUT_VALUE]),
    ]
    metrics += [
        _ratio_metric(PRODUCT_PREFIX + p.name, total_tco2e, p.quantity, p.unit, f"tCO2/{p.unit}")
        for p in activity.products
    ]
    primary = metrics[0]
    if sector is Sector.ENERGY:
        primary = _energy_metric(total_tco2e, activity)
        metrics.insert(0, primary)
    return Intensity(
        primary, tuple(m for m in metrics if m.denominator is not None or m is primary)
    )


def _energy_metric(total_tco2e: float, activity: Activity) -> IntensityMetric:
    mwh = activity.electricity_supplied_mwh or 0.0
    gj = activity.heat_supplied_gj or 0.0
    if mwh > 0 and gj > 0:
        return _ratio_metric(
            PER_MWH_EQ, total_tco2e, mwh + gj / GJ_PER_MWH, "MWh-eq", METRIC_UNITS[PER_MWH_EQ]
        )
    if gj > 0:
        return _ratio_metric(PER_GJ_HEAT, total_tco2e, gj, "GJ", METRIC_UNITS[PER_GJ_HEAT])
    return _ratio_metric(
        PER_MWH, total_tco2e, activity.electricity_supplied_mwh, "MWh", METRIC_UNITS[PER_MWH]
    )
