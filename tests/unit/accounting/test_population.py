"""The vectorised population path agrees with the per-account path, entity by entity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from accounting.account import AccountInput, EntityRef, Period, compute_accounts
from accounting.emissions import COLUMN_INDEX, EMISSION_COLUMNS, EnergyTotal, factor_matrix
from accounting.energy import EnergyType
from accounting.factors import load_factor_set_dir
from accounting.grading import COLOURS, load_grading_config
from accounting.intensity import Activity
from accounting.population import account_population
from accounting.vocab import Sector

PERIOD = Period(date(2023, 1, 1), date(2023, 12, 31))
TYPES = (EnergyType.ELECTRICITY, EnergyType.NATURAL_GAS, EnergyType.RAW_COAL)


def _population(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "q": rng.gamma(2.0, 1.0, size=(n, 3)) * np.array([2e6, 1e5, 500.0]),
        "va": np.round(rng.uniform(200, 5000, n), 2),
        "industry": rng.choice(["C2614", "C3011", "C2221"], n),
        "region": rng.choice(["kecheng", "qujiang"], n),
        "previous": rng.uniform(0.3, 4.0, n),
        "completeness": np.where(rng.random(n) < 0.2, 0.85, 1.0),
    }


def test_population_path_equals_per_account_path() -> None:
    n = 80
    pop = _population(n, seed=3)
    fs = load_factor_set_dir().get("CN-2023")
    grading = load_grading_config()
    quantities = np.zeros((n, len(EMISSION_COLUMNS)))
    for j, etype in enumerate(TYPES):
        quantities[:, COLUMN_INDEX[etype]] = pop["q"][:, j]
    result = account_population(
        quantities,
        factor_matrix(fs, [""] * n),
        denominators=pop["va"],
        value_added_10k_yuan=pop["va"],
        sectors=np.full(n, "industry"),
        industry_codes=pop["industry"],
        regions=pop["region"],
        metrics=np.full(n, "tco2_per_10k_yuan_value_added"),
        previous_intensity=pop["previous"],
        completeness=pop["completeness"],
        metered=np.ones(n, dtype=bool),
        grading=grading,
        period="2023",
    )
    inputs = [
        AccountInput(
            entity=EntityRef(
                f"E{i}", f"E{i}", Sector.INDUSTRY, str(pop["industry"][i]), str(pop["region"][i])
            ),
            period=PERIOD,
            energy=tuple(
                EnergyTotal(t, float(pop["q"][i, j]), t.unit) for j, t in enumerate(TYPES)
            ),
            activity=Activity(value_added_10k_yuan=Decimal(str(pop["va"][i]))),
            previous_intensity=float(pop["previous"][i]),
            completeness=float(pop["completeness"][i]),
            metered=True,
        )
        for i in range(n)
    ]
    accounts = compute_accounts(
        inputs, fs, grading, benchmark_set=result.benchmark_set, regional_from_population=True
    )
    for i, acc in enumerate(accounts):
        assert acc.emissions.total_tco2e == pytest.approx(result.emissions.total_tco2e[i])
        assert acc.intensity.primary.value == pytest.approx(result.intensity[i])
        assert acc.benchmark is not None
        assert acc.benchmark.value == pytest.approx(result.benchmark[i])
        assert acc.grade.carbon_efficiency == result.grades.carbon_efficiency[i]
        assert acc.grade.score == pytest.approx(result.grades.score[i])
        assert acc.grade.colour == COLOURS[result.grades.colour[i]]
        assert acc.grade.provisional == bool(result.grades.provisional[i])
        assert acc.data_quality.tier == result.tier[i]


def test_population_benchmark_is_the_group_median() -> None:
    n = 40
    pop = _population(n, seed=5)
    fs = load_factor_set_dir().get("CN-2023")
    quantities = np.zeros((n, len(EMISSION_COLUMNS)))
    quantities[:, COLUMN_INDEX[EnergyType.ELECTRICITY]] = pop["q"][:, 0]
    result = account_population(
        quantities,
        factor_matrix(fs, [""] * n),
        denominators=pop["va"],
        value_added_10k_yuan=pop["va"],
        sectors=np.full(n, "industry"),
        industry_codes=np.full(n, "C2614"),
        regions=np.full(n, "kecheng"),
        metrics=np.full(n, "tco2_per_10k_yuan_value_added"),
        previous_intensity=np.full(n, np.nan),
        completeness=np.ones(n),
        metered=np.ones(n, dtype=bool),
        grading=load_grading_config(),
        period="2023",
    )
    hand = np.median(pop["q"][:, 0] * 0.5306e-3 / pop["va"])
    assert result.benchmark == pytest.approx(np.full(n, hand))
