"""``finance-engine account calc``: the calculator end to end through the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finance_engine.cli import cli
from finance_engine.cli.common import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONSOLE = [sys.executable, "-c", "from finance_engine.cli import main; main()"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CONSOLE, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_calc_prints_the_account_as_json() -> None:
    done = _run("account", "calc", str(EXAMPLES / "industry.json"), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    em = out["emissions_tco2e"]
    # coal 1,900.30 + gas 1,081.09 + electricity 1,800 MWh x 0.5306 + heat 110 + steam 592.52
    assert em["total"] == pytest.approx(4638.99, rel=1e-3)
    assert em["scope1"] + em["scope2"] == pytest.approx(em["total"], rel=1e-12)
    assert set(em["by_energy"]) == {"electricity", "natural_gas", "raw_coal", "heat", "steam"}
    grade = out["grade"]
    assert {
        "carbon_efficiency",
        "carbon_label",
        "colour",
        "score",
        "provisional",
        "reasons",
    } <= set(grade)
    assert grade["carbon_efficiency"] == 3
    assert grade["carbon_label"] == "medium"
    assert out["factor_set"] == "CN-2023"
    assert {"energy_type", "value", "unit", "source"} <= set(out["factors_used"][0])


def test_missing_field_exits_2_naming_it(tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "industry.json").read_text(encoding="utf-8"))
    del doc["entity"]["region"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    done = _run("account", "calc", str(bad), "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == "error: bad.json: entity.region: Missing data for required field."


def test_text_summary_of_the_energy_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(cli, ["account", "calc", str(EXAMPLES / "energy.json")]) == 0
    text = capsys.readouterr().out
    assert "tCO2/MWh-eq (tco2_per_mwh_equivalent_supplied)" in text
    assert "factor set CN-2022" in text
    assert "reasons:" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"entity": {}}', "entity.id: Missing data for required field."),
    ],
)
def test_bad_documents_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "in.json"
    path.write_text(content, encoding="utf-8")
    assert run_cli(cli, ["account", "calc", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(cli, ["account", "calc", str(tmp_path / "none.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
