"""Agriculture and forestry: livestock, manure, rice, fertiliser, energy, and sinks (IPCC Tier 1).

For a period of ``D`` days (``f = D ÷ 365``, 1 for a one-year period of 365 or 366 days; head
counts are average standing stock)::

    enteric CH4, kg   = head × EF_enteric(species) × f                         (IPCC 2006 T10.10/11)
    manure CH4, kg    = head × share × VS × 365 × Bo × 0.67 × MCF(system) × f  (IPCC 2006 Eq 10.23)
    manure N2O, kg    = head × share × N_ex × f × EF3(system) × 44/28          (N_ex given only)
    rice CH4, kg      = area_ha × 1.19 × SF × season_days                      (IPCC 2019 Eq 5.1)
    fertiliser N2O, kg = N × [(1 − s) × EF1 + s × EF1FR] × 44/28               (IPCC 2019 T11.1)
    sinks, tCO2       = forest_ha × r_forest × f + orchard_ha × r_orchard × f
                        + organic_fertiliser_t × r_organic

``SF`` is the water-regime scaling factor (or one given), ``s`` the share of the nitrogen applied
to flooded rice. CH4 and N2O become CO2e with the account's GWP set (biogenic CH4 uses the
non-fossil value). Gross emissions = energy + CH4 + N2O; net = gross − sinks; a farm with net ≤ 0
is labelled ``carbon_neutral_farm``.

Intensities of gross emissions: ``tco2e_per_head`` (annualised; primary when livestock is kept),
``tco2e_per_ha`` (annualised, area = cropland incl. paddy + orchard and tea + forest; primary
otherwise when an area is given) and ``tco2e_per_10k_yuan_output`` (output value of the period).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accounting.agriculture_params import AgricultureParameters
from accounting.buildings import annualisation_factor, year_fraction
from accounting.grading_reasons import Reason
from accounting.intensity import (
    AGRI_PER_HA,
    AGRI_PER_HEAD,
    AGRI_PER_OUTPUT,
    Activity,
    Intensity,
    IntensityMetric,
    sector_metric,
    value_added_metric,
)
from accounting.sector_lines import N2O_PER_N2O_N, GwpSet, SectorResult, SourceLine
from accounting.vocab import Sector


@dataclass(frozen=True)
class ManureEntry:
    """How (a share of) one species' manure is managed."""

    species: str
    system: str
    share: float = 1.0
    """Share of the species' head count whose manure goes to this system (0-1]."""
    n_excretion_kg_per_head_year: float | None = None
    """N excreted, kg N/head/yr: given, manure N2O is counted too."""


@dataclass(frozen=True)
class RiceSeason:
    """One rice season (early, late or single rice)."""

    area_ha: float
    season_days: int
    water_regime: str = "continuously_flooded"
    scaling_factor: float | None = None
    """Overrides the water regime's factor (e.g. SFw × SFp × SFo)."""


@dataclass(frozen=True)
class AgricultureData:
    """A farm account's sector input (``agriculture`` section)."""

    livestock: Mapping[str, float]
    """Species -> average head count over the period."""
    manure: tuple[ManureEntry, ...] = ()
    rice: tuple[RiceSeason, ...] = ()
    fertiliser_n_kg: float = 0.0
    flooded_rice_n_share: float = 0.0
    cropland_ha: float | None = None
    """Arable land including paddy fields; None: the largest rice-season area."""
    orchard_ha: float = 0.0
    """Orchards and tea gardens."""
    forest_ha: float = 0.0
    organic_fertiliser_t: float = 0.0
    """Organic fertiliser produced in the period, t."""
    gwp_set: str | None = None
    """GWP set name (None: the file's default)."""

    @property
    def cropland(self) -> float:
        """Cropland area, ha (the largest rice-season area when not given)."""
        if self.cropland_ha is not None:
            return self.cropland_ha
        return max((s.area_ha for s in self.rice), default=0.0)

    @property
    def area_ha(self) -> float:
        """Farm area for the per-hectare intensity: cropland + orchard + forest, ha."""
        return self.cropland + self.orchard_ha + self.forest_ha

    @property
    def heads(self) -> float:
        """All livestock, average head count."""
        return float(sum(self.livestock.values()))


def _line(
    source: str,
    detail: str,
    gas: str,
    activity: tuple[float, str],
    factor: tuple[float, str],
    gas_kg: float,
    gwp: float,
    reference: str,
) -> SourceLine:
    return SourceLine(
        source,
        detail,
        gas,
        activity[0],
        activity[1],
        factor[0],
        factor[1],
        gas_kg / 1000.0,
        gwp,
        gas_kg / 1000.0 * gwp,
        reference,
    )


def livestock_lines(
    data: AgricultureData, years: float, params: AgricultureParameters, gwp: GwpSet
) -> list[SourceLine]:
    """Enteric CH4 per species, manure CH4 (and N2O) per managed share."""
    out = []
    for species, head in data.livestock.items():  # a handful of species
        spec = params.species[species]
        ef = float(spec["enteric_ch4_kg_per_head_year"])
        if head > 0 and ef > 0:
            out.append(
                _line(
                    "enteric_ch4",
                    species,
                    "CH4",
                    (head * years, "head x year"),
                    (ef, "kg CH4/head/yr"),
                    head * years * ef,
                    gwp.ch4_non_fossil,
                    str(spec["source"]),
                )
            )
    for entry in data.manure:
        head = data.livestock.get(entry.species, 0.0) * entry.share * years
        out += _manure_lines(entry, head, params, gwp)
    return out


def _manure_lines(
    entry: ManureEntry, head_years: float, params: AgricultureParameters, gwp: GwpSet
) -> list[SourceLine]:
    system = params.manure_systems[entry.system]
    detail = f"{entry.species}/{entry.system}"
    ef = params.manure_ch4_kg_per_head_year(entry.species, entry.system)
    ref = f"{params.manure_source}; {system['source']}; {params.species[entry.species]['source']}"
    out = [
        _line(
            "manure_ch4",
            detail,
            "CH4",
            (head_years, "head x year"),
            (ef, "kg CH4/head/yr"),
            head_years * ef,
            gwp.ch4_non_fossil,
            ref,
        )
    ]
    nex = entry.n_excretion_kg_per_head_year
    ef3 = float(system["ef3_kg_n2o_n_per_kg_n"])
    if nex is not None and ef3 > 0:
        n_kg = head_years * nex
        out.append(
            _line(
                "manure_n2o",
                detail,
                "N2O",
                (n_kg, "kg N excreted"),
                (ef3 * N2O_PER_N2O_N, "kg N2O/kg N"),
                n_kg * ef3 * N2O_PER_N2O_N,
                gwp.n2o,
                str(system["source"]),
            )
        )
    return out


def rice_lines(
    data: AgricultureData, params: AgricultureParameters, gwp: GwpSet
) -> list[SourceLine]:
    """Rice paddy CH4, one line per season."""
    out = []
    for i, season in enumerate(data.rice):
        regime = params.water_regimes[season.water_regime]
        sf = (
            float(regime["scaling_factor"])
            if season.scaling_factor is None
            else season.scaling_factor
        )
        ef = params.rice_kg_ch4_per_ha_day * sf
        ha_days = season.area_ha * season.season_days
        out.append(
            _line(
                "rice_ch4",
                f"season {i + 1} ({season.water_regime})",
                "CH4",
                (ha_days, "ha x day"),
                (ef, "kg CH4/ha/day"),
                ha_days * ef,
                gwp.ch4_non_fossil,
                f"{params.rice_source}; {regime['source']}",
            )
        )
    return out


def fertiliser_lines(
    data: AgricultureData, params: AgricultureParameters, gwp: GwpSet
) -> list[SourceLine]:
    """Direct N2O of synthetic N applied: upland (EF1) and flooded-rice (EF1FR) parts."""
    parts = (
        ("upland", data.fertiliser_n_kg * (1.0 - data.flooded_rice_n_share), params.ef1),
        ("flooded_rice", data.fertiliser_n_kg * data.flooded_rice_n_share, params.ef1fr),
    )
    return [
        _line(
            "fertiliser_n2o",
            name,
            "N2O",
            (n_kg, "kg N"),
            (ef * N2O_PER_N2O_N, "kg N2O/kg N"),
            n_kg * ef * N2O_PER_N2O_N,
            gwp.n2o,
            params.fertiliser_source,
        )
        for name, n_kg, ef in parts
        if n_kg > 0
    ]


def sink_lines(
    data: AgricultureData, years: float, params: AgricultureParameters
) -> list[SourceLine]:
    """Forest, orchard (and tea garden) and organic-fertiliser sinks (negative tCO2e)."""
    s = params.sinks
    items = (
        ("forest_sink", data.forest_ha * years, "ha x year", s["forest_tco2_per_ha_year"]),
        ("orchard_sink", data.orchard_ha * years, "ha x year", s["orchard_tco2_per_ha_year"]),
        (
            "organic_fertiliser",
            data.organic_fertiliser_t,
            "t produced",
            s["organic_fertiliser_tco2e_per_t"],
        ),
    )
    return [
        SourceLine(
            code,
            "",
            "CO2",
            qty,
            unit,
            float(rate["value"]),
            f"tCO2/{unit}",
            qty * float(rate["value"]),
            1.0,
            -qty * float(rate["value"]),
            str(rate["source"]),
        )
        for code, qty, unit, rate in items
        if qty > 0
    ]


def agriculture_result(
    data: AgricultureData,
    energy_tco2e: float,
    activity: Activity,
    days: int,
    group: tuple[str, str],
    params: AgricultureParameters,
    gwp: GwpSet,
) -> SectorResult:
    """The farm part of an account: CH4/N2O lines, sinks, intensities, net and label.

    Parameters
    ----------
    energy_tco2e
        On-farm energy emissions of the period, tCO2.
    group
        (industry code, region) of the entity: its benchmark group.
    """
    years = year_fraction(days)
    lines = [
        *livestock_lines(data, years, params, gwp),
        *rice_lines(data, params, gwp),
        *fertiliser_lines(data, params, gwp),
        *sink_lines(data, years, params),
    ]
    gross = energy_tco2e + sum(x.tco2e for x in lines if x.tco2e > 0)
    sinks = -sum(x.tco2e for x in lines if x.tco2e < 0)
    net = gross - sinks
    intensity = _intensity(data, gross, activity, days)
    neutral = net <= 0
    return SectorResult(
        sector=Sector.AGRICULTURE,
        method_version=f"{params.version}; {gwp.file_version}:{gwp.name}",
        lines=tuple(lines),
        intensity=intensity,
        benchmark_group=(Sector.AGRICULTURE.value, *group),
        labels=("carbon_neutral_farm",) if neutral else (),
        reasons=(_net_reason(gross, sinks, net),),
        details=_details(data, gwp, gross, sinks, net, neutral),
    )


def _intensity(data: AgricultureData, gross: float, activity: Activity, days: int) -> Intensity:
    annual = annualisation_factor(days)
    output = activity.output_value_10k_yuan
    metrics: list[IntensityMetric] = [
        sector_metric(AGRI_PER_HEAD, gross * annual, data.heads or None, "head"),
        sector_metric(AGRI_PER_HA, gross * annual, data.area_ha or None, "ha"),
        sector_metric(
            AGRI_PER_OUTPUT, gross, None if output is None else float(output), "10k yuan"
        ),
    ]
    va = value_added_metric(gross, activity)
    if va is not None:
        metrics.append(va)
    usable = [m for m in metrics[:3] if m.denominator is not None]
    primary = usable[0] if usable else metrics[2]
    return Intensity(
        primary, tuple(m for m in metrics if m.denominator is not None or m is primary)
    )


def _net_reason(gross: float, sinks: float, net: float) -> Reason:
    if net <= 0:
        return Reason(
            "CARBON_NEUTRAL_FARM",
            f"net emissions {net:,.2f} tCO2e (gross {gross:,.2f} - sinks {sinks:,.2f}) <= 0: "
            "labelled carbon-neutral farm",
            value=net,
            message_zh=f"净排放 {net:,.2f} tCO2e ≤ 0,认定为碳中和农场",
        )
    return Reason(
        "NET_EMISSIONS",
        f"net emissions {net:,.2f} tCO2e (gross {gross:,.2f} - sinks {sinks:,.2f}) > 0: "
        "not carbon-neutral",
        value=net,
        message_zh=f"净排放 {net:,.2f} tCO2e",
    )


def _details(
    data: AgricultureData, gwp: GwpSet, gross: float, sinks: float, net: float, neutral: bool
) -> dict[str, Any]:
    return {
        "gwp_set": gwp.name,
        "gwp": {"ch4_non_fossil": gwp.ch4_non_fossil, "ch4_fossil": gwp.ch4_fossil, "n2o": gwp.n2o},
        "livestock": dict(data.livestock),
        "heads": data.heads,
        "area_ha": data.area_ha,
        "cropland_ha": data.cropland,
        "orchard_ha": data.orchard_ha,
        "forest_ha": data.forest_ha,
        "rice_seasons": len(data.rice),
        "fertiliser_n_kg": data.fertiliser_n_kg,
        "flooded_rice_n_share": data.flooded_rice_n_share,
        "organic_fertiliser_t": data.organic_fertiliser_t,
        "gross_tco2e": gross,
        "sinks_tco2e": sinks,
        "net_tco2e": net,
        "carbon_neutral": neutral,
    }
