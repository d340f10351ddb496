"""Report verification: by upload (raw or multipart, size limit), by reference, and publicly by
verification code (the QR code's target: no key, registry summary only, rate limited)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest

from finance_engine.app import create_app
from finance_engine.config import load_settings
from finance_engine.db import unit_of_work
from finance_engine.services.reports import report_file
from finance_engine.tables_reports import ReportRecord

from .conftest import LENDER_A, World, problem
from .reports_helpers import OFFICER, issue_ok, record_of, report, stored_bytes

__all__ = ["report"]  # the module-scoped fixture

CHECKS = [
    "readable",
    "signed",
    "signature_intact",
    "certificate_trusted",
    "unmodified_since_signing",
    "report_data",
    "registered",
]


def _upload(world: World, data: bytes, *, multipart: bool = False, app: Any = None) -> Any:
    client = (app or world.app).test_client()
    headers = world.auth("risk_analyst")
    if multipart:
        return client.post(
            "/api/v1/reports/verify",
            data={"file": (io.BytesIO(data), "report.pdf")},
            content_type="multipart/form-data",
            headers=headers,
        )
    return client.post(
        "/api/v1/reports/verify", data=data, content_type="application/pdf", headers=headers
    )


@pytest.mark.parametrize("multipart", [False, True], ids=["raw", "multipart"])
def test_a_downloaded_report_verifies_when_uploaded(
    world: World, report: dict[str, Any], multipart: bool
) -> None:
    pdf = world.client().get(report["pdf_url"], headers=world.auth(OFFICER)).get_data()
    response = _upload(world, pdf, multipart=multipart)
    assert response.status_code == 200
    result = response.get_json()
    assert (result["valid"], result["status"], result["failures"]) == (True, "valid", [])
    assert [c["name"] for c in result["checks"]] == CHECKS
    assert result["report_number"] == report["report_number"]
    assert result["report"]["sha256"] == result["sha256"] == report["sha256"]


def test_a_tampered_upload_is_invalid_and_says_why(world: World, report: dict[str, Any]) -> None:
    pdf = bytearray(stored_bytes(world, report["id"]))
    at = pdf.index(b"/MediaBox")  # inside the signed byte range
    pdf[at + 1] ^= 0x01
    result = _upload(world, bytes(pdf)).get_json()
    assert (result["valid"], result["status"]) == (False, "invalid")
    failed = {c["name"]: c["detail"] for c in result["checks"] if not c["ok"]}
    assert "signature_intact" in failed
    assert "changed after signing" in failed["signature_intact"]
    assert any(f.startswith("signature_intact: ") for f in result["failures"])
    garbage = _upload(world, b"%PDF-1.7\nnot really").get_json()
    assert garbage["valid"] is False
    assert garbage["checks"][0]["name"] == "readable"
    assert garbage["report"] is None


def test_an_empty_upload_is_422(world: World) -> None:
    for multipart in (False, True):
        response = _upload(world, b"", multipart=multipart)
        assert response.status_code == 422
        assert problem(response)["errors"][0]["field"] == ("file" if multipart else "body")
    missing = world.client().post(
        "/api/v1/reports/verify",
        data={"other": "x"},
        content_type="multipart/form-data",
        headers=world.auth("admin"),
    )
    assert problem(missing)["errors"][0]["field"] == "file"


def test_uploads_over_the_pdf_limit_are_413(world: World, report: dict[str, Any]) -> None:
    pdf = stored_bytes(world, report["id"])
    small = create_app(world.settings.with_overrides(report_max_upload_bytes=len(pdf)))
    assert world.settings.report_max_upload_bytes == 4 << 20
    for multipart in (False, True):
        assert _upload(world, pdf, multipart=multipart, app=small).get_json()["valid"]
        refused = _upload(world, pdf + b"\n", multipart=multipart, app=small)
        assert refused.status_code == 413, multipart
        assert "FINANCE_ENGINE_REPORT_MAX_UPLOAD_BYTES" in problem(refused)["detail"]
    small.extensions["finance_engine.engine"].dispose()


def test_the_upload_limit_is_a_setting() -> None:
    settings = load_settings({"FINANCE_ENGINE_REPORT_MAX_UPLOAD_BYTES": "1000"})
    assert settings.report_max_upload_bytes == 1000


def test_verification_by_reference_checks_the_stored_file(
    world: World, report: dict[str, Any]
) -> None:
    response = world.client().get(
        f"/api/v1/reports/{report['report_number']}/verification", headers=world.auth("admin")
    )
    result = response.get_json()
    assert (result["valid"], result["sha256"]) == (True, report["sha256"])
    assert result["report"]["borrower"] == {"id": "F01", "name": "Firm 1"}


def test_a_stored_file_changed_on_disk_fails_verification_and_is_not_served(
    world: World,
) -> None:
    issued = issue_ok(world, "F01", lang="zh")
    path = report_file(world.settings, record_of(world, issued["id"]))
    path.write_bytes(path.read_bytes() + b"% appended\n")
    client = world.client()
    by_ref = client.get(
        f"/api/v1/reports/{issued['id']}/verification", headers=world.auth(OFFICER)
    ).get_json()
    assert by_ref["valid"] is False
    failed = {c["name"]: c["detail"] for c in by_ref["checks"] if not c["ok"]}
    assert "not the issued file" in failed["registered"]
    public = client.get(f"/api/v1/reports/verify/{issued['verification_code']}").get_json()
    assert public["status"] == "invalid"
    download = client.get(issued["pdf_url"], headers=world.auth(OFFICER))
    assert download.status_code == 500
    assert "does not match its registered SHA-256" in problem(download)["detail"]


# ------------------------------------------------------------------------- public by code


def test_public_verification_shows_the_registry_summary_and_no_content(
    world: World, report: dict[str, Any]
) -> None:
    code = report["verification_code"]
    for sent in (code, code.lower(), code.replace("-", ""), code.replace("0", "O")):
        response = world.client().get(f"/api/v1/reports/verify/{sent}")
        assert response.status_code == 200, sent
    result = response.get_json()
    assert (result["valid"], result["status"]) == (True, "valid")
    summary = result["report"]
    assert summary["report_number"] == report["report_number"]
    assert summary["borrower"] == {"id": "F01", "name": "Firm 1"}
    assert summary["in_validity_period"] is True
    assert set(summary) == {
        "report_number",
        "verification_code",
        "borrower",
        "period",
        "issuer",
        "issued_at",
        "valid_until",
        "in_validity_period",
        "lang",
        "sha256",
        "size_bytes",
        "pages",
        "signer",
        "signature_level",
        "development",
        "versions",
    }, "no grade, score, emissions, offers or issuing lender"
    assert set(result) == {
        "valid",
        "status",
        "sha256",
        "report_number",
        "verification_code",
        "signer",
        "signing_time",
        "timestamp_time",
        "checks",
        "failures",
        "report",
    }
    assert LENDER_A not in response.get_data(as_text=True)


def test_an_unknown_code_is_a_404_problem(world: World) -> None:
    response = world.client().get("/api/v1/reports/verify/0000-0000-0000-0000")
    assert response.status_code == 404
    assert problem(response)["type"].endswith("/not-found")
    assert world.client().get("/api/v1/reports/verify/not-a-code").status_code == 404


def test_a_browser_gets_a_bilingual_page(world: World, report: dict[str, Any]) -> None:
    response = world.client().get(
        f"/api/v1/reports/verify/{report['verification_code']}",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    page = response.get_data(as_text=True)
    assert "报告有效 · Report valid" in page
    assert report["report_number"] in page
    assert report["sha256"] in page
    assert "<script" not in page


def test_an_expired_report_verifies_as_expired(world: World) -> None:
    issued = issue_ok(world, "F01", lang="en")
    with unit_of_work(world.engine) as session:
        record = session.get(ReportRecord, issued["id"])
        assert record is not None
        record.valid_until = date.today() - timedelta(days=2)
        session.add(record)
    result = world.client().get(f"/api/v1/reports/verify/{issued['verification_code']}").get_json()
    assert (result["valid"], result["status"]) == (True, "expired")
    assert result["report"]["in_validity_period"] is False


def test_public_verification_is_rate_limited_per_address(
    world: World, report: dict[str, Any]
) -> None:
    limited = create_app(world.settings.with_overrides(report_verify_per_minute=2))
    client = limited.test_client()
    url = f"/api/v1/reports/verify/{report['verification_code']}"
    statuses = [client.get(url).status_code for _ in range(3)]
    if statuses[2] != 429:  # the minute turned between the calls
        statuses = [client.get(url).status_code for _ in range(3)]
    assert statuses[-1] == 429
    refused = client.get(url)
    assert problem(refused)["type"].endswith("/rate-limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    other = client.get(url, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200, "another address has its own count"
    limited.extensions["finance_engine.engine"].dispose()
