"""The PD model: accuracy against the ground-truth oracle, calibration, monotonicity, reason
codes, the fast single-row path, save/load integrity and determinism.

One model is trained per module on a 40k-row synthetic history (seed 101) and judged on a
separate 40k-row history (seed 202) drawn from the same documented ground truth.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from finance_engine.synth.loans import LoanHistory, generate_loan_history
from scoring import metrics
from scoring.features import FEATURE_NAMES, FEATURE_SPECS, feature_matrix
from scoring.risk_model import ModelIntegrityError, RiskModel, RiskModelError

TRAINED_AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
FloatArray = np.ndarray


def matrix_and_labels(history: LoanHistory) -> tuple[FloatArray, FloatArray]:
    return feature_matrix(history.feature_columns()), history["default_12m"]


@pytest.fixture(scope="module")
def training() -> tuple[FloatArray, FloatArray]:
    return matrix_and_labels(generate_loan_history(101, 40_000))


@pytest.fixture(scope="module")
def held_out() -> LoanHistory:
    return generate_loan_history(202, 40_000)


@pytest.fixture(scope="module")
def model(training: tuple[FloatArray, FloatArray]) -> RiskModel:
    x, y = training
    return RiskModel().fit(x, y, created_at=TRAINED_AT)


def test_auc_on_held_out_rows_is_within_002_of_the_oracle(
    model: RiskModel, held_out: LoanHistory
) -> None:
    x, y = matrix_and_labels(held_out)
    oracle_auc = metrics.auc(y, held_out["true_pd"])
    model_auc = metrics.auc(y, model.predict_pd(x))
    assert oracle_auc - model_auc < 0.02
    assert model_auc > 0.75  # the ground truth is learnable, not a coin toss


def test_held_out_calibration_error_is_small(model: RiskModel, held_out: LoanHistory) -> None:
    x, y = matrix_and_labels(held_out)
    pd = model.predict_pd(x)
    # Sampling noise alone: sd of the default rate ~0.001 (40k rows), of the calibration
    # sample's ~0.002 (8k rows); measured gaps 0.001-0.003, ECE 0.003-0.005.
    assert abs(pd.mean() - y.mean()) < 0.01
    assert metrics.expected_calibration_error(y, pd, 10) < 0.01
    assert np.mean(np.abs(pd - held_out["true_pd"])) < 0.02
    report = model.evaluate(x, y)
    for row in report["calibration_by_band"]:
        if row["n"] >= 2000:
            assert abs(row["mean_pd"] - row["default_rate"]) < 0.02, row


def monotone_grid(base: FloatArray, column: int, values: FloatArray) -> FloatArray:
    """Every base row repeated with ``column`` set to each of ``values``: (rows*len(values), k)."""
    grid = np.repeat(base, values.size, axis=0)
    grid[:, column] = np.tile(values, base.shape[0])
    return grid


@pytest.mark.parametrize("spec", [s for s in FEATURE_SPECS if s.monotone], ids=lambda s: s.name)
def test_constrained_features_move_pd_only_one_way(
    model: RiskModel, held_out: LoanHistory, spec: object
) -> None:
    name, direction = spec.name, spec.monotone  # type: ignore[attr-defined]
    x, _ = matrix_and_labels(held_out)
    column = FEATURE_NAMES.index(name)
    finite = x[:, column][~np.isnan(x[:, column])]
    values = np.unique(
        np.r_[np.quantile(finite, np.linspace(0, 1, 41)), finite.min(), finite.max()]
    )
    pd = model.predict_pd(monotone_grid(x[:300], column, values)).reshape(300, values.size)
    steps = np.diff(pd, axis=1) * direction
    assert steps.min() >= -1e-12, f"{name}: PD moved against its constraint"


def test_increasing_leverage_never_lowers_pd_and_does_raise_it(
    model: RiskModel, held_out: LoanHistory
) -> None:
    x, _ = matrix_and_labels(held_out)
    leverage = np.linspace(0.0, 1.4, 57)
    pd = model.predict_pd(monotone_grid(x[:300], 1, leverage)).reshape(300, leverage.size)
    assert (np.diff(pd, axis=1) >= 0).all()
    assert (pd[:, -1] > pd[:, 0]).all()


def test_contributions_add_up_to_the_raw_score(model: RiskModel, held_out: LoanHistory) -> None:
    x, _ = matrix_and_labels(held_out)
    contrib = model.contributions(x[:500])
    assert contrib.shape == (500, len(FEATURE_NAMES) + 1)
    np.testing.assert_allclose(contrib.sum(axis=1), model.raw_score(x[:500]), atol=1e-9)


def test_reason_codes_name_the_strongest_drivers_in_plain_words(model: RiskModel) -> None:
    row = np.array([[800.0, 0.95, 0.5, -0.08, 1, 3, 5, 2.6, 15.0, 18.0, 0.97, 2, 4]])
    reasons = model.reason_codes(row[0], top=3)
    assert len(reasons) == 3
    contributions = [reason.contribution for reason in reasons]
    assert contributions == sorted(contributions, reverse=True)
    assert contributions[-1] > 0
    assert reasons[0].text in {
        "high leverage (0.95)",
        "3 overdue payment(s) in 24 months",
        "low current ratio (0.50)",
    }
    assert all(reason.feature in FEATURE_NAMES for reason in reasons)
    safe = np.array([80_000.0, 0.2, 3.0, 0.15, 30, 0, 1, 0.5, 95.0, -12.0, 1.0, 0, 1])
    assert all(r.contribution > 0 for r in model.reason_codes(safe))


def test_single_row_fast_path_equals_batch_prediction(
    model: RiskModel, held_out: LoanHistory
) -> None:
    x, _ = matrix_and_labels(held_out)
    rows = x[:2000]
    assert model._fast.uses_c_api
    one_by_one = np.array([model.predict_pd_row(row) for row in rows])
    np.testing.assert_array_equal(one_by_one, model.predict_pd(rows))
    bare = model.booster_.predict(rows[:50], raw_score=True, num_threads=1)
    np.testing.assert_array_equal([model._fast.raw_score(r) for r in rows[:50]], bare)


def test_save_and_load_give_identical_predictions_and_full_metadata(
    model: RiskModel, held_out: LoanHistory, tmp_path: Path
) -> None:
    x, _ = matrix_and_labels(held_out)
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "model.txt").read_text().startswith("tree\n")
    loaded = RiskModel.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_pd(x), model.predict_pd(x))
    assert loaded.predict_pd_row(x[7]) == model.predict_pd_row(x[7])
    meta = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert meta["version"] == loaded.version == model.version
    assert meta["version"].startswith("RM-20250301T093000Z-")
    assert meta["created_at"] == "2025-03-01T09:30:00+00:00"
    assert [f["name"] for f in meta["features"]] == list(FEATURE_NAMES)
    assert meta["monotone_constraints"][FEATURE_NAMES.index("leverage")] == 1
    assert meta["training"]["n_rows"] == 40_000
    assert len(meta["training"]["data_sha256"]) == 64
    assert 0.02 < meta["training"]["default_rate"] < 0.06
    for key in ("auc", "ks", "gini", "brier", "ece_decile", "calibration_by_band"):
        assert key in meta["validation"]
    assert meta["calibration"]["method"] == "platt"
    assert meta["lightgbm_version"]
    assert meta["risk_bands"]["labels"] == ["A", "B", "C", "D", "E"]


def test_a_tampered_model_file_is_refused(model: RiskModel, tmp_path: Path) -> None:
    folder = model.save(tmp_path / "m")
    text = (folder / "model.txt").read_text()
    line = next(line for line in text.splitlines() if line.startswith("leaf_value="))
    (folder / "model.txt").write_text(text.replace(line, line.replace("=", "=0.5 ", 1), 1))
    with pytest.raises(ModelIntegrityError, match="tampered"):
        RiskModel.load(folder)


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RiskModelError, match="not a readable model folder"):
        RiskModel.load(tmp_path)


def test_same_seed_gives_the_same_model_text_and_another_seed_does_not() -> None:
    x, y = matrix_and_labels(generate_loan_history(7, 6000))
    first = RiskModel(seed=1).fit(x, y, created_at=TRAINED_AT)
    second = RiskModel(seed=1).fit(x, y, created_at=TRAINED_AT)
    other = RiskModel(seed=2).fit(x, y, created_at=TRAINED_AT)
    assert first.model_text_ == second.model_text_
    assert first.version == second.version
    assert first.metadata_ == second.metadata_
    assert other.model_text_ != first.model_text_


def test_isotonic_calibration_is_available_and_monotone(
    training: tuple[FloatArray, FloatArray],
) -> None:
    x, y = training
    model = RiskModel(calibration="isotonic").fit(x[:10_000], y[:10_000], created_at=TRAINED_AT)
    raw = np.sort(model.raw_score(x[:3000]))
    assert (np.diff(model.calibrator_(raw)) >= 0).all()


def test_fit_refuses_bad_labels_shapes_and_a_naive_clock(
    training: tuple[FloatArray, FloatArray],
) -> None:
    x, y = training
    with pytest.raises(RiskModelError, match="y: default flags must be 0 or 1"):
        RiskModel().fit(x[:100], np.full(100, 2), created_at=TRAINED_AT)
    with pytest.raises(RiskModelError, match="x: expected"):
        RiskModel().fit(x[:, :3], y, created_at=TRAINED_AT)
    with pytest.raises(RiskModelError, match="created_at: must be timezone-aware"):
        RiskModel().fit(x, y, created_at=datetime(2025, 1, 1))
    with pytest.raises(RiskModelError, match="not fitted"):
        RiskModel().predict_pd(x[:1])
