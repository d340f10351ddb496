"""``finance-engine model synth-history | train | evaluate | show`` end to end through the CLI's
error mapping, with the instance folder in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cli_helpers import Invoke, cli_invoker

from finance_engine.cli.model import register


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "instance"
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str], instance: Path) -> Invoke:
    return cli_invoker(capsys, register, prefix=("model",))


@pytest.fixture
def histories(invoke: Invoke, tmp_path: Path) -> tuple[Path, Path]:
    train, test = tmp_path / "train.parquet", tmp_path / "test.csv"
    assert invoke("synth-history", "--out", str(train), "--n", "8000", "--seed", "1")[0] == 0
    code, out, _ = invoke(
        "synth-history", "--out", str(test), "--n", "6000", "--seed", "2", "--json"
    )
    assert code == 0
    assert json.loads(out)["rows"] == 6000
    return train, test


def test_train_stores_a_current_model_that_evaluate_uses(
    invoke: Invoke, histories: tuple[Path, Path], instance: Path
) -> None:
    train, test = histories
    code, out, err = invoke("train", "--data", str(train), "--json")
    assert code == 0, err
    trained = json.loads(out)
    version = trained["version"]
    assert (instance / "models" / "current").read_text().strip() == version
    assert (instance / "models" / version / "model.txt").is_file()
    assert trained["training"]["n_rows"] == 8000

    code, out, err = invoke("evaluate", "--data", str(test), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["model_version"] == version
    assert report["n"] == 6000
    assert 0.7 < report["auc"] <= report["oracle"]["auc"] + 0.02
    assert report["gini"] == pytest.approx(2 * report["auc"] - 1)
    assert [row["band"] for row in report["calibration_by_band"]] == ["A", "B", "C", "D", "E"]
    assert sum(row["n"] for row in report["calibration_by_band"]) == 6000

    code, out, _ = invoke("evaluate", "--data", str(test))
    assert code == 0
    assert "oracle (true PD) AUC" in out
    code, out, _ = invoke("show", "--json")
    assert json.loads(out)["version"] == version


def test_train_into_a_folder_and_evaluate_it(
    invoke: Invoke, histories: tuple[Path, Path], tmp_path: Path, instance: Path
) -> None:
    train, test = histories
    code, out, _ = invoke("train", "--data", str(train), "--out", str(tmp_path / "m"))
    assert code == 0
    assert "trained RM-" in out
    assert not (instance / "models" / "current").exists()
    code, out, _ = invoke("evaluate", "--data", str(test), "--model", str(tmp_path / "m"))
    assert code == 0
    assert out.startswith("model RM-")


def test_a_missing_column_exits_2_naming_it(
    invoke: Invoke, histories: tuple[Path, Path], tmp_path: Path
) -> None:
    train, _ = histories
    broken = tmp_path / "broken.parquet"
    pq.write_table(pq.read_table(train).drop_columns(["current_ratio"]), broken)
    code, _, err = invoke("train", "--data", str(broken))
    assert code == 2
    assert "missing column(s) current_ratio" in err


def test_an_out_of_range_feature_exits_2_naming_it(
    invoke: Invoke, histories: tuple[Path, Path], tmp_path: Path
) -> None:
    _, test = histories
    lines = test.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index('"leverage"')] = "-3"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    code, _, err = invoke("train", "--data", str(bad))
    assert code == 2
    assert "column leverage: 1 value(s) below 0" in err


def test_bad_files_and_no_model_exit_2(invoke: Invoke, tmp_path: Path) -> None:
    code, _, err = invoke("train", "--data", str(tmp_path / "none.csv"))
    assert code == 2
    assert "no such file" in err
    (tmp_path / "h.json").write_text("{}")
    code, _, err = invoke("train", "--data", str(tmp_path / "h.json"))
    assert code == 2
    assert "unknown suffix" in err
    code, _, err = invoke("evaluate", "--data", str(tmp_path / "none.csv"))
    assert code == 2
    assert "no current model" in err


def test_a_tampered_model_is_refused(
    invoke: Invoke, histories: tuple[Path, Path], tmp_path: Path
) -> None:
    train, test = histories
    assert invoke("train", "--data", str(train), "--out", str(tmp_path / "m"))[0] == 0
    model_file = tmp_path / "m" / "model.txt"
    model_file.write_text(model_file.read_text().replace("leaf_value=", "leaf_value=1", 1))
    code, _, err = invoke("evaluate", "--data", str(test), "--model", str(tmp_path / "m"))
    assert code == 2
    assert "tampered" in err
