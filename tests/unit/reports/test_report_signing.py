"""Signing and verification: a valid PAdES signature, and the tampering it must reveal."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import report_poppler as poppler
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from report_helpers import ContentFactory

from reports import (
    DevPki,
    Lang,
    ReportSigner,
    SignedReport,
    SigningKeyError,
    generate_dev_pki,
    is_development_certificate,
    issue_signed_report,
    verify_report_pdf,
)
from reports.verify import INTACT, TIMESTAMP, TRUSTED, UNMODIFIED


def roots(pki: DevPki) -> list[asn1_x509.Certificate]:
    return list(load_certs_from_pemder_data(pki.ca_cert_pem))


@pytest.fixture(scope="module")
def signed(make_content: ContentFactory, signer: ReportSigner, font: str) -> SignedReport:
    return issue_signed_report(make_content(Lang.BILINGUAL), signer, font=font)


def failed(result: Any) -> set[str]:
    return {c.name for c in result.failures}


def test_a_signed_report_verifies_and_carries_its_data(
    signed: SignedReport, dev_pki: DevPki
) -> None:
    result = verify_report_pdf(signed.pdf, roots(dev_pki))
    assert result.valid, result.to_dict()["failures"]
    assert result.report_data == signed.data
    assert result.report_number == "CCR-20250701-TEST0001"
    assert len(signed.pdf) < 500_000


def test_pdfsig_reports_the_signature_valid(
    signed: SignedReport, dev_pki: DevPki, tmp_path: Path
) -> None:
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(signed.pdf)
    out = poppler.run("pdfsig", str(pdf))
    assert "Signature Validation: Signature is Valid." in out
    assert "Total document signed" in out
    certutil = shutil.which("certutil")
    if certutil is None:  # libnss3-tools absent: the chain cannot be put in an NSS database
        return
    nss = tmp_path / "nss"
    nss.mkdir()
    ca = tmp_path / "ca.pem"
    ca.write_bytes(dev_pki.ca_cert_pem)
    for args in (["-N", "--empty-password"], ["-A", "-n", "dev-ca", "-t", "CT,C,C", "-i", str(ca)]):
        subprocess.run([certutil, *args, "-d", f"sql:{nss}"], check=True, capture_output=True)
    trusted = poppler.run("pdfsig", "-nssdir", f"sql:{nss}", str(pdf))
    assert "Certificate Validation: Certificate is Trusted." in trusted


def test_the_json_attachment_extracted_equals_the_report_data(
    signed: SignedReport, tmp_path: Path
) -> None:
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(signed.pdf)
    assert "carbon-credit-report.json" in poppler.run("pdfdetach", "-list", str(pdf))
    out = tmp_path / "data.json"
    poppler.run("pdfdetach", "-save", "1", "-o", str(out), str(pdf))
    assert json.loads(out.read_text(encoding="utf-8")) == signed.data


def test_the_signature_is_visible_on_the_last_page(signed: SignedReport, tmp_path: Path) -> None:
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(signed.pdf)
    last = poppler.text(pdf, signed.pages)
    assert "电子签章" in last
    assert "DEVELOPMENT ONLY" in last


def signed_range(pdf: bytes) -> tuple[int, int]:
    """The first signed byte range (start, length) from the signature's /ByteRange."""
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)", pdf)
    assert match is not None
    return int(match.group(1)), int(match.group(2))


def test_changing_one_signed_byte_fails_the_integrity_check(
    signed: SignedReport, dev_pki: DevPki
) -> None:
    producer = signed.pdf.index(b"ReportLab PDF Library")
    assert producer < sum(signed_range(signed.pdf))
    tampered = bytearray(signed.pdf)
    tampered[producer] ^= 0x20  # "R" -> "r"
    result = verify_report_pdf(bytes(tampered), roots(dev_pki))
    assert not result.valid
    assert failed(result) == {INTACT}
    assert "changed after signing" in result.failures[0].detail


def test_a_flipped_byte_anywhere_in_the_signed_range_is_caught(
    signed: SignedReport, dev_pki: DevPki
) -> None:
    start, length = signed_range(signed.pdf)
    for offset in (start + length // 3, start + length // 2, start + length - 100):
        tampered = bytearray(signed.pdf)
        tampered[offset] ^= 0x01
        result = verify_report_pdf(bytes(tampered), roots(dev_pki))
        assert not result.valid, offset
        assert all(c.detail for c in result.failures)


def overlay_text(pdf: bytes) -> bytes:
    """Append an incremental update that draws text over page 1 (alters the content)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    stream = generic.StreamObject(stream_data=b"0 0 1 rg 100 100 200 50 re f")
    ref = writer.add_object(stream)
    old = page.raw_get("/Contents")
    page["/Contents"] = generic.ArrayObject(
        [*old] if isinstance(old, generic.ArrayObject) else [old, ref]
    )
    if isinstance(old, generic.ArrayObject):
        page["/Contents"].append(ref)
    writer.mark_update(page_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_incremental_update_that_alters_content_fails_verification(
    signed: SignedReport, dev_pki: DevPki, tmp_path: Path
) -> None:
    altered = overlay_text(signed.pdf)
    assert altered.startswith(signed.pdf)  # the signed bytes themselves are untouched
    result = verify_report_pdf(altered, roots(dev_pki))
    assert failed(result) == {UNMODIFIED}
    assert "changed after signing: 1 later incremental update" in result.failures[0].detail
    pdf = tmp_path / "altered.pdf"
    pdf.write_bytes(altered)
    assert "Total document signed" not in poppler.run("pdfsig", str(pdf))


def test_a_certificate_outside_the_trust_roots_fails_the_chain_check(
    signed: SignedReport,
) -> None:
    other = generate_dev_pki(datetime.now(UTC))
    result = verify_report_pdf(signed.pdf, roots(other))
    assert failed(result) == {TRUSTED}
    assert "does not chain to the configured trust root" in result.failures[0].detail


def test_a_file_that_is_not_a_pdf_is_refused_with_a_reason(dev_pki: DevPki) -> None:
    result = verify_report_pdf(b"%PDF-1.4 not really", roots(dev_pki))
    assert not result.valid
    assert result.failures[0].name in {"readable", "signed"}


def tsa(ca_key: rsa.RSAPrivateKey, ca_pem: bytes) -> DummyTimeStamper:
    """A local timestamp authority whose certificate the development CA issued."""
    ca = x509.load_pem_x509_certificate(ca_pem)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der),
    )


SIGNER_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def own_ca() -> tuple[rsa.RSAPrivateKey, bytes, ReportSigner]:
    """A CA whose key the test holds, and a signer it issued (via a PKCS#12 round trip)."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC) - timedelta(minutes=5)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bank Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bank signer")]))
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(SIGNER_KEY_USAGE, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"signer", key, cert, [ca], serialization.BestAvailableEncryption(b"s3cret")
    )
    with pytest.raises(SigningKeyError, match="passphrase"):
        ReportSigner.from_pkcs12(p12, b"wrong")
    return (
        ca_key,
        ca.public_bytes(serialization.Encoding.PEM),
        ReportSigner.from_pkcs12(p12, b"s3cret"),
    )


def test_b_t_signatures_carry_a_trusted_timestamp(make_content: ContentFactory, font: str) -> None:
    ca_key, ca_pem, bank_signer = own_ca()
    assert not bank_signer.development
    assert not is_development_certificate(bank_signer.certificate)
    report = issue_signed_report(
        make_content(Lang.ZH), bank_signer, font=font, timestamper=tsa(ca_key, ca_pem)
    )
    result = verify_report_pdf(report.pdf, list(load_certs_from_pemder_data(ca_pem)))
    assert result.valid, result.to_dict()["failures"]
    assert TIMESTAMP in {c.name for c in result.checks}
    assert result.timestamp_time is not None


def test_the_signer_never_parses_its_key_again(
    make_content: ContentFactory,
    signer: ReportSigner,
    font: str,
    monkeypatch: pytest.MonkeyPatch,
    dev_pki: DevPki,
) -> None:
    import pyhanko.sign.signers.pdf_cms as pdf_cms

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("the private key was parsed again")

    monkeypatch.setattr(pdf_cms.serialization, "load_der_private_key", refuse)
    report = issue_signed_report(make_content(Lang.EN), signer, font=font)
    monkeypatch.undo()
    assert verify_report_pdf(report.pdf, roots(dev_pki)).valid


def test_development_certificates_are_recognised_and_a_wrong_key_is_refused(
    signer: ReportSigner, dev_pki: DevPki
) -> None:
    assert signer.development
    assert "development" in signer.common_name
    other = generate_dev_pki(datetime.now(UTC))
    with pytest.raises(SigningKeyError, match="does not match"):
        ReportSigner.from_pem(other.signer_key_pem, dev_pki.signer_cert_pem)
    with pytest.raises(SigningKeyError, match="PEM private key"):
        ReportSigner.from_pem(b"not a key", dev_pki.signer_cert_pem)


class _OddSizedCertificate:
    """Stands in for a chain certificate whose DER encoding has an odd length."""

    def dump(self) -> bytes:
        return b"\x30" * 1001


@pytest.mark.parametrize("extra", [0, 1, 2])
def test_reserved_signature_bytes_are_always_even(signer: ReportSigner, extra: int) -> None:
    from dataclasses import replace

    odd_chain = replace(signer, chain=(*signer.chain, *([_OddSizedCertificate()] * extra)))
    assert odd_chain.reserved_bytes % 2 == 0
    assert odd_chain.reserved_bytes >= 4096 + 1001 * extra
