"""Issuing, registering and verifying reports from stored accounts, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from calendar import monthrange
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from accounting.account import Period
from finance_engine.config import ConfigError, Settings, load_settings
from finance_engine.db import unit_of_work
from finance_engine.models import Alert, CarbonAccount, Entity
from finance_engine.services.accounts import compute_period_accounts
from finance_engine.services.activity import store_activity
from finance_engine.services.report_data import report_catalog
from finance_engine.services.report_samples import issue_sample_reports, sample_entities
from finance_engine.services.reports import (
    ReportError,
    issue_report,
    report_file,
    verify_report_file,
    verify_report_ref,
)
from finance_engine.services.signing import (
    SigningConfigError,
    create_dev_pki,
    dev_pki_paths,
    load_report_signer,
    report_timestamper,
    trust_roots,
)
from finance_engine.synth.metered_firms import add_metered_firm
from finance_engine.tables_reports import ReportRecord
from products.model import BP_PER_PERCENT
from reports import DevPki, Lang, generate_dev_pki

YEAR = Period(date(2023, 1, 1), date(2023, 12, 31))
ZONE = ZoneInfo("Asia/Shanghai")
ISSUED = datetime(2025, 7, 1, 10, 30, tzinfo=ZONE)
LPR_PCT = {"1y": Decimal("3.00"), "5y": Decimal("3.50")}  # fixing of 2025-05-20
GRID_T_PER_KWH = 0.5306e-3  # CN-2023 national grid factor
GAS_T_PER_M3 = 389.31e-4 * 15.3e-3 * 0.99 * 44 / 12  # GB/T 32150 defaults


def _metered(session: Session, eid: str, kwh_per_day_per_month: float) -> int:
    """A metered firm whose daily electricity is ``kwh × month number`` (January 1×...)."""
    return add_metered_firm(
        session, eid, f"Firm {eid}", lambda day: kwh_per_day_per_month * day.month
    )


def _alert(meter_id: int, eid: str, when: datetime, kind: str = "over_consumption") -> Alert:
    start = int(when.timestamp())
    return Alert(
        meter_id=meter_id,
        entity_id=eid,
        kind=kind,
        severity="warning",
        interval_start_s=start,
        interval_end_s=start + 900,
        expected=10.0,
        actual=31.0,
        message="usage 3.1x the same-slot baseline",
    )


@pytest.fixture
def city(engine: Engine) -> Engine:
    """F01, F02 metered (F01 declares gas too), D01 declared only; accounts for 2023."""
    with unit_of_work(engine) as session:
        meter = _metered(session, "F01", 1000.0)
        _metered(session, "F02", 3000.0)
        session.add(
            Entity(
                id="D01",
                name="Declared Co.",
                sector="industry",
                industry_code="C2614",
                region="kecheng",
            )
        )
        session.add(_alert(meter, "F01", datetime(2023, 5, 3, 10, 15, tzinfo=ZONE)))
        session.add(_alert(meter, "F01", datetime(2024, 2, 1, 9, 0, tzinfo=ZONE), "flat_line"))
    declared = {
        "F01": [{"type": "natural_gas", "unit": "m3", "quantity": 10000}],
        "F02": [],
        "D01": [{"type": "electricity", "unit": "MWh", "quantity": 500}],
    }
    records = [
        {
            "entity_id": eid,
            "period": {"start": "2023-01-01", "end": "2023-12-31"},
            "value_added_10k_yuan": "1000.00",
            "declared_energy": energy,
        }
        for eid, energy in declared.items()
    ]
    assert store_activity(engine, records).stored == 3
    return engine


@pytest.fixture(scope="session")
def pki() -> DevPki:
    return generate_dev_pki(datetime.now(UTC))


@pytest.fixture
def keyed(settings: Settings, pki: DevPki) -> Settings:
    """``settings`` with the session's development PKI written where ``init`` puts it."""
    paths = dev_pki_paths(settings.instance_path)
    paths.ca_cert.parent.mkdir(parents=True)
    paths.ca_cert.write_bytes(pki.ca_cert_pem)
    paths.signer_cert.write_bytes(pki.signer_cert_pem)
    paths.signer_key.write_bytes(pki.signer_key_pem)
    return settings


def _issue(engine: Engine, settings: Settings, eid: str = "F01", **kw: Any) -> Any:
    compute_period_accounts(engine, settings, YEAR)
    return issue_report(engine, settings, eid, now=ISSUED, **kw)


def test_an_issued_report_is_stored_registered_and_verifies(city: Engine, keyed: Settings) -> None:
    issued = _issue(city, keyed)
    assert issued.path.parent == keyed.instance_path / "reports"
    pdf = issued.path.read_bytes()
    assert len(pdf) == issued.size_bytes < 500_000
    with Session(city) as session:
        record = session.exec(select(ReportRecord)).one()
    assert record.sha256 == issued.sha256
    assert record.entity_id == "F01"
    assert record.development
    assert record.signature_level == "B-B"
    assert record.versions["factor_set"] == "CN-2023"
    by_file = verify_report_file(city, keyed, pdf)
    assert by_file.valid, by_file.to_dict()["failures"]
    assert by_file.report_data == record.data
    for ref in (str(issued.id), issued.report_number, issued.verification_code.lower()):
        assert verify_report_ref(city, keyed, ref).valid


def test_the_monthly_trend_sums_the_rollups_with_the_accounts_factors(
    city: Engine, keyed: Settings
) -> None:
    _issue(city, keyed)
    data = _latest_data(city)
    months = data["monthly"]["months"]
    assert [m["month"] for m in months] == [f"2023-{m:02d}" for m in range(1, 13)]
    for m, row in enumerate(months, start=1):
        kwh = 1000.0 * m * monthrange(2023, m)[1]
        assert row["emissions_tco2e"] == pytest.approx(kwh * GRID_T_PER_KWH, rel=1e-9)
    assert data["monthly"]["declared_tco2e"] == pytest.approx(10000 * GAS_T_PER_M3, rel=1e-6)
    total = sum(r["emissions_tco2e"] for r in months) + data["monthly"]["declared_tco2e"]
    assert total == pytest.approx(data["emissions"]["total_tco2e"], rel=1e-9)


def _latest_data(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        record = session.exec(select(ReportRecord).order_by(col(ReportRecord.id).desc())).first()
        assert record is not None
        return record.data


def test_a_declared_only_firm_has_no_monthly_trend(city: Engine, keyed: Settings) -> None:
    _issue(city, keyed, "D01", lang=Lang.ZH)
    data = _latest_data(city)
    assert data["monthly"]["available"] is False
    assert data["report"]["lang"] == "zh"


def test_only_the_alerts_of_the_period_are_shown(city: Engine, keyed: Settings) -> None:
    _issue(city, keyed)
    alerts = _latest_data(city)["alerts"]
    assert [(a["kind"], a["started_at"]) for a in alerts] == [
        ("over_consumption", "2023-05-03T10:15:00+08:00")
    ]


def test_offers_carry_catalog_terms_priced_off_the_lpr(city: Engine, keyed: Settings) -> None:
    _issue(city, keyed, base_limit_yuan=Decimal("2000000"))
    data = _latest_data(city)
    offers = data["products"]["offers"]
    assert offers, "the grade opens no product"
    catalog = report_catalog()
    for offer in offers:
        code, version = offer["product"].split("@v")
        product = next(p for p in catalog.versions(code) if p.version == int(version))
        terms = product.grade_terms(offer["grade"])
        assert terms is not None
        assert Decimal(offer["limit_multiplier"]) == terms.limit_multiplier <= Decimal("1.5")
        limit = min(Decimal("2000000") * terms.limit_multiplier, product.max_amount_yuan)
        assert Decimal(offer["indicative_limit_yuan"]) == limit
        lpr = LPR_PCT[product.rate.lpr_tenor.value]
        rate = (
            lpr
            + Decimal(product.rate.spread_bp) / BP_PER_PERCENT
            - Decimal(offer["rate_discount_bp"]) / BP_PER_PERCENT
        )
        assert Decimal(offer["indicative_rate_pct"]) == max(rate, product.rate.floor_rate_pct)


def test_a_valid_pdf_the_registry_does_not_know_fails_the_registry_check(
    city: Engine, keyed: Settings
) -> None:
    issued = _issue(city, keyed)
    pdf = issued.path.read_bytes()
    with unit_of_work(city) as session:
        record = session.exec(select(ReportRecord)).one()
        record.sha256 = "0" * 64
        session.add(record)
    result = verify_report_file(city, keyed, pdf)
    assert [c.name for c in result.failures] == ["registered"]
    assert "registered with SHA-256 0000000000000000" in result.failures[0].detail
    with unit_of_work(city) as session:
        session.delete(session.exec(select(ReportRecord)).one())
    result = verify_report_file(city, keyed, pdf)
    assert "is not in the registry" in result.failures[0].detail


def test_unknown_entities_and_entities_without_accounts_are_refused(
    city: Engine, keyed: Settings
) -> None:
    with pytest.raises(ReportError, match="'NOPE' is not a known entity"):
        issue_report(city, keyed, "NOPE", now=ISSUED)
    with pytest.raises(ReportError, match="no stored carbon account"):
        issue_report(city, keyed, "F01", now=ISSUED)  # accounts not computed yet
    with pytest.raises(ReportError, match="no registered report"):
        verify_report_ref(city, keyed, "CCR-20250101-XXXXXXXX")


def test_production_refuses_the_development_key_and_roots(keyed: Settings) -> None:
    production = keyed.with_overrides(environment="production")
    with pytest.raises(SigningConfigError, match="no report-signing key configured"):
        load_report_signer(production)
    paths = dev_pki_paths(keyed.instance_path)
    explicit = production.with_overrides(
        signing_key=paths.signer_key, signing_cert=paths.signer_cert
    )
    with pytest.raises(SigningConfigError, match="development certificate"):
        load_report_signer(explicit)
    with pytest.raises(SigningConfigError, match="TRUST_ROOTS: required in production"):
        trust_roots(production)
    with pytest.raises(SigningConfigError, match="development CA cannot be trusted"):
        trust_roots(production.with_overrides(trust_roots=paths.ca_cert))


def test_a_pkcs12_key_from_config_signs(city: Engine, keyed: Settings, pki: DevPki) -> None:
    key = serialization.load_pem_private_key(pki.signer_key_pem, None)
    certs = x509.load_pem_x509_certificates(pki.signer_cert_pem)
    p12 = keyed.instance_path / "signer.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"signer",
            key,
            certs[0],
            certs[1:],  # type: ignore[arg-type]
            serialization.BestAvailableEncryption(b"pass phrase"),
        )
    )
    configured = keyed.with_overrides(signing_pkcs12=p12, signing_passphrase="pass phrase")
    assert load_report_signer(configured) is load_report_signer(configured)  # loaded once
    issued = _issue(city, configured)
    assert verify_report_file(city, configured, issued.path.read_bytes()).valid
    wrong = keyed.with_overrides(signing_pkcs12=p12, signing_passphrase="wrong")
    with pytest.raises(SigningConfigError, match="passphrase"):
        load_report_signer(wrong)


def test_create_dev_pki_writes_marked_files_once(tmp_path: Path) -> None:
    first = create_dev_pki(tmp_path / "instance")
    assert first.created
    assert os.stat(first.signer_key).st_mode & 0o777 == 0o600
    cert = x509.load_pem_x509_certificates(first.signer_cert.read_bytes())[0]
    assert "DEVELOPMENT ONLY" in cert.subject.rfc4514_string()
    again = create_dev_pki(tmp_path / "instance")
    assert not again.created
    assert again.signer_key.read_bytes() == first.signer_key.read_bytes()


def test_the_stored_file_is_found_from_the_registry(city: Engine, keyed: Settings) -> None:
    issued = _issue(city, keyed)
    with Session(city) as session:
        record = session.exec(select(ReportRecord)).one()
    assert report_file(keyed, record) == issued.path


def _self_signed_tsa() -> DummyTimeStamper:
    """A timestamp authority no trust root vouches for."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Untrusted TSA")])
    now = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der),
    )


def test_a_timestamper_makes_b_t_and_an_untrusted_authority_is_named(
    city: Engine, keyed: Settings
) -> None:
    assert report_timestamper(keyed) is None
    assert isinstance(
        report_timestamper(keyed.with_overrides(tsa_url="http://127.0.0.1:9/tsa")),
        HTTPTimeStamper,
    )
    issued = _issue(city, keyed, timestamper=_self_signed_tsa())
    assert issued.signature_level == "B-T"
    result = verify_report_file(city, keyed, issued.path.read_bytes())
    assert [c.name for c in result.failures] == ["timestamp_valid"]
    assert "authority is not trusted" in result.failures[0].detail


def test_sample_reports_cover_each_colour_present(city: Engine, keyed: Settings) -> None:
    compute_period_accounts(city, keyed, YEAR)
    with Session(city) as session:
        colours = {a.entity_id: a.colour for a in session.exec(select(CarbonAccount)).all()}
    picked = sample_entities(city, per_colour=1)
    assert set(picked) == set(colours.values()) - {""}
    assert all(len(ids) == 1 and colours[ids[0]] == c for c, ids in picked.items())
    issued = issue_sample_reports(city, keyed, per_colour=1, now=ISSUED)
    assert sorted(r.entity_id for r in issued) == sorted(i for ids in picked.values() for i in ids)
    assert all(verify_report_file(city, keyed, r.path.read_bytes()).valid for r in issued)


def test_report_settings_come_from_the_environment_and_are_checked(tmp_path: Path) -> None:
    env = {
        "FINANCE_ENGINE_INSTANCE_PATH": str(tmp_path),
        "FINANCE_ENGINE_REPORT_BASE_LIMIT_YUAN": "2500000.50",
        "FINANCE_ENGINE_REPORT_VALIDITY_DAYS": "30",
        "FINANCE_ENGINE_SIGNING_PKCS12": str(tmp_path / "bank.p12"),
        "FINANCE_ENGINE_SIGNING_PASSPHRASE": "top secret",
        "FINANCE_ENGINE_TSA_URL": "https://tsa.example.test/",
    }
    settings = load_settings(env)
    assert settings.report_base_limit_yuan == Decimal("2500000.50")
    assert settings.report_validity_days == 30
    assert settings.signing_pkcs12 == tmp_path / "bank.p12"
    assert settings.reports_path == tmp_path / "reports"
    assert "top secret" not in repr(settings)
    for name, value, message in [
        ("REPORT_VALIDITY_DAYS", "0", "at least 1"),
        ("REPORT_BASE_LIMIT_YUAN", "lots", "is not a number"),
        ("TSA_URL", "ftp://tsa", r"is not an http\(s\) URL"),
        ("SIGNING_KEY", str(tmp_path / "k.pem"), "SIGNING_CERT: required"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_settings({**env, f"FINANCE_ENGINE_{name}": value})
