"""``finance-engine backtest`` end to end: a synthetic history, a trained model, a patch or a
catalog directory as challenger; outputs, determinism and errors through the CLI's mapping."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cli_helpers import Invoke, Result, cli_invoker

from finance_engine.cli import backtest, model
from products.catalog import DEFAULT_CATALOG_DIR

DECLINE_RED = {
    "format": "finance-engine/rule-patch@1",
    "name": "decline-red",
    "description": "Decline red borrowers on every colour-graded product",
    "changes": [{"products": "*", "decline_grades": ["red"]}, {"products": "*", "max_pd": "0.03"}],
}


@pytest.fixture
def invoke(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Invoke:
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(tmp_path / "instance"))
    return cli_invoker(capsys, model.register, backtest.register)


@pytest.fixture
def inputs(invoke: Invoke, tmp_path: Path) -> dict[str, Path]:
    train, history = tmp_path / "train.parquet", tmp_path / "history.parquet"
    assert (
        invoke("model", "synth-history", "--out", str(train), "--n", "6000", "--seed", "3")[0] == 0
    )
    code, _, err = invoke(
        "model", "synth-history", "--out", str(history), "--n", "5000", "--seed", "4",
        "--start-year", "2020", "--years", "6",
    )  # fmt: skip
    assert code == 0, err
    model_dir = tmp_path / "model"
    assert invoke("model", "train", "--data", str(train), "--out", str(model_dir))[0] == 0
    patch = tmp_path / "decline-red.json"
    patch.write_text(json.dumps(DECLINE_RED), encoding="utf-8")
    return {"history": history, "model": model_dir, "patch": patch}


def _backtest(invoke: Invoke, inputs: dict[str, Path], out: Path, *extra: str) -> Result:
    return invoke(
        "backtest", "--history", str(inputs["history"]), "--challenger", str(inputs["patch"]),
        "--out", str(out), "--model", str(inputs["model"]), *extra,
    )  # fmt: skip


def test_a_patch_challenger_writes_json_swaps_and_a_pdf(
    invoke: Invoke, inputs: dict[str, Path], tmp_path: Path
) -> None:
    code, out, err = _backtest(invoke, inputs, tmp_path / "out", "--json")
    assert code == 0, err
    result = json.loads(out)
    summary = json.loads((tmp_path / "out" / "backtest.json").read_text(encoding="utf-8"))
    champion, challenger = (summary["rule_sets"][side] for side in ("champion", "challenger"))
    assert summary["inputs"]["challenger"]["patch"]["name"] == "decline-red"
    assert challenger["booked"] < champion["booked"]
    assert result["headline"]["delta"]["booked"] == challenger["booked"] - champion["booked"]
    assert result["swap_in"] == 0
    with (tmp_path / "out" / "swaps.csv").open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == result["swap_out"] == summary["swap_sets"]["swap_out"]["applications"]
    assert {row["swap_set"] for row in rows} == {"swap_out"}
    pdf = (tmp_path / "out" / "backtest.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert summary["model_performance"]["all"]["auc"] > 0.7
    assert summary["carbon"]["champion"]["financed_emissions_tco2e"] > 0


def test_the_same_inputs_give_byte_identical_outputs(
    invoke: Invoke, inputs: dict[str, Path], tmp_path: Path
) -> None:
    for name in ("first", "again"):
        assert _backtest(invoke, inputs, tmp_path / name)[0] == 0
    for file in ("backtest.json", "swaps.csv", "backtest.pdf"):
        first = (tmp_path / "first" / file).read_bytes()
        assert first == (tmp_path / "again" / file).read_bytes(), file


def test_a_catalog_directory_challenger_equals_the_same_change_as_a_patch(
    invoke: Invoke, inputs: dict[str, Path], tmp_path: Path
) -> None:
    directory = tmp_path / "challenger"
    shutil.copytree(DEFAULT_CATALOG_DIR, directory)
    for file in directory.glob("*.json"):
        document = json.loads(file.read_text(encoding="utf-8"))
        for product in document["products"]:
            product["eligibility"]["max_pd"] = "0.03"
            if product["grade_basis"] == "colour" and "red" in product["grade_table"]:
                del product["grade_table"]["red"]
                product["eligibility"]["minimum_grade"] = "yellow"
        file.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert _backtest(invoke, inputs, tmp_path / "patched")[0] == 0
    code, _, err = invoke(
        "backtest", "--history", str(inputs["history"]), "--challenger", str(directory),
        "--out", str(tmp_path / "dir"), "--model", str(inputs["model"]), "--no-pdf",
    )  # fmt: skip
    assert code == 0, err
    by_patch, by_dir = (
        json.loads((tmp_path / name / "backtest.json").read_text(encoding="utf-8"))
        for name in ("patched", "dir")
    )
    assert by_dir["rule_sets"]["challenger"] == by_patch["rule_sets"]["challenger"]
    assert not (tmp_path / "dir" / "backtest.pdf").exists()


def test_the_text_output_shows_the_headline_side_by_side(
    invoke: Invoke, inputs: dict[str, Path], tmp_path: Path
) -> None:
    code, out, _ = _backtest(invoke, inputs, tmp_path / "out", "--versions", "application-date")
    assert code == 0
    assert "champion" in out
    assert "booked volume (yuan)" in out
    assert "swap-out" in out


def test_bad_inputs_exit_2_naming_the_cause(
    invoke: Invoke, inputs: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.parquet"
    pq.write_table(pq.read_table(inputs["history"]).drop_columns(["lgd"]), broken)
    bad_patch = tmp_path / "bad.json"
    bad_patch.write_text(json.dumps({**DECLINE_RED, "changes": [{"products": ["NOPE"]}]}))
    cases = [
        (("--history", str(broken)), "missing column(s) lgd"),
        (("--challenger", str(bad_patch)), "unknown product code 'NOPE'"),
        (("--challenger", str(tmp_path / "none")), "challenger:"),
        (("--versions", "someday"), "versions:"),
        (("--reference", "2020-01-01"), "--reference:"),
        (("--model", str(tmp_path / "no-model")), "model:"),
    ]
    for change, message in cases:
        args = {"--history": str(inputs["history"]), "--challenger": str(inputs["patch"]),
                "--out": str(tmp_path / "out"), "--model": str(inputs["model"])}  # fmt: skip
        args.update(dict(zip(change[::2], change[1::2], strict=True)))
        code, _, err = invoke("backtest", *[item for pair in args.items() for item in pair])
        assert code == 2, (change, err)
        assert message in err, (change, err)
        assert "Traceback" not in err
