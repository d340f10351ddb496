"""``finance-engine report issue | verify | list`` end to end through the CLI's error mapping.

The commands are mounted on a fresh group with ``register`` and run through ``run_cli``, the same
entry point (and exit-code mapping) the console script uses, against a SQLite instance folder
holding stored accounts and the development signing key.
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import Invoke, cli_invoker
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from accounting.account import Period
from finance_engine.cli.report import register
from finance_engine.config import load_settings
from finance_engine.db import make_engine, unit_of_work, upgrade
from finance_engine.services.accounts import compute_period_accounts
from finance_engine.services.activity import store_activity
from finance_engine.services.signing import create_dev_pki
from finance_engine.synth.metered_firms import add_metered_firm


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance folder with two metered firms' 2023 accounts and the development key."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(folder))
    monkeypatch.delenv("FINANCE_ENGINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("FINANCE_ENGINE_ENV", "development")
    settings = load_settings()
    folder.mkdir()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        for n in (1, 2):
            add_metered_firm(session, f"F{n:02d}", f"测试企业{n}", 1000.0 * n)
    store_activity(
        engine,
        [
            {
                "entity_id": f"F{n:02d}",
                "period": {"start": "2023-01-01", "end": "2023-12-31"},
                "value_added_10k_yuan": "1000.00",
            }
            for n in (1, 2)
        ],
    )
    compute_period_accounts(engine, settings, Period(date(2023, 1, 1), date(2023, 12, 31)))
    engine.dispose()
    create_dev_pki(folder)
    return folder


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str], instance: Path) -> Invoke:
    return cli_invoker(capsys, register, prefix=("report",))


def test_issue_then_verify_by_file_and_by_id(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "copy" / "report.pdf"
    code, stdout, err = invoke(
        "issue", "--entity", "F01", "--lang", "zh", "--out", str(out), "--json"
    )
    assert code == 0, err
    issued = json.loads(stdout)
    assert out.read_bytes() == Path(issued["path"]).read_bytes()
    assert issued["lang"] == "zh"
    assert issued["signature_level"] == "B-B"
    assert issued["development"] is True
    assert issued["verify_url"].endswith("/api/v1/reports/verify/" + issued["verification_code"])

    code, stdout, _ = invoke("verify", str(out), "--json")
    assert code == 0
    result = json.loads(stdout)
    assert result["valid"] is True
    assert result["report_number"] == issued["report_number"]
    assert {c["name"] for c in result["checks"]} >= {
        "signature_intact",
        "certificate_trusted",
        "unmodified_since_signing",
        "registered",
    }

    code, stdout, _ = invoke("verify", "--id", issued["verification_code"])
    assert code == 0
    assert stdout.startswith(f"VALID: report {issued['report_number']}")

    code, stdout, _ = invoke("list", "--json")
    assert [r["report_number"] for r in json.loads(stdout)] == [issued["report_number"]]


def _issued_pdf(invoke: Invoke) -> bytes:
    code, stdout, err = invoke("issue", "--entity", "F02", "--json")
    assert code == 0, err
    return Path(json.loads(stdout)["path"]).read_bytes()


def test_a_changed_byte_makes_verify_exit_2_with_the_reason(invoke: Invoke, tmp_path: Path) -> None:
    pdf = bytearray(_issued_pdf(invoke))
    pdf[pdf.index(b"ReportLab PDF Library")] ^= 0x20
    path = tmp_path / "tampered.pdf"
    path.write_bytes(bytes(pdf))
    code, stdout, _ = invoke("verify", str(path))
    assert code == 2
    assert stdout.startswith("INVALID")
    assert "[FAIL] signature_intact: the signed bytes were changed after signing" in stdout


def test_an_appended_update_makes_verify_exit_2_with_the_reason(
    invoke: Invoke, tmp_path: Path
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(_issued_pdf(invoke)), strict=False)
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    overlay = writer.add_object(generic.StreamObject(stream_data=b"1 0 0 rg 50 50 100 100 re f"))
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), overlay])
    writer.mark_update(page_ref)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "updated.pdf"
    path.write_bytes(buffer.getvalue())
    code, stdout, _ = invoke("verify", str(path), "--json")
    assert code == 2
    failures = json.loads(stdout)["failures"]
    assert any(
        f.startswith("unmodified_since_signing: the file was changed after signing")
        for f in failures
    ), failures
    assert any(f.startswith("registered:") for f in failures)  # not the registered file


def test_bad_input_is_one_line_with_exit_2(invoke: Invoke) -> None:
    code, _, err = invoke("issue", "--entity", "NOPE")
    assert code == 2
    assert err.strip() == "error: entity: 'NOPE' is not a known entity"
    code, _, err = invoke("verify")
    assert code == 2
    assert "give either FILE or --id" in err
    code, _, err = invoke("verify", "--id", "0000-0000-0000-0000")
    assert code == 2
    assert "no registered report" in err
