"""A development PKI for signing reports: a CA and a signing certificate, marked as development.

Both certificates carry two markers that :func:`is_development_certificate` recognises:
the organisation ``finance-engine DEVELOPMENT ONLY`` and the certificate policy
:data:`DEVELOPMENT_POLICY_OID` with a user notice. A production deployment refuses any
certificate with either marker (see ``finance_engine.services.signing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

DEVELOPMENT_ORG = "finance-engine DEVELOPMENT ONLY"
"""Organisation (O) of every development certificate."""

DEVELOPMENT_POLICY_OID = "2.25.121671100691610279466551994124641353885"
"""Certificate policy marking development certificates (a UUID-based OID, ITU-T X.667)."""

DEVELOPMENT_NOTICE = (
    "DEVELOPMENT ONLY: not for production use; reports signed with it are not valid"
)

CA_VALIDITY = timedelta(days=3650)
SIGNER_VALIDITY = timedelta(days=825)
RSA_BITS = 2048


@dataclass(frozen=True)
class DevPki:
    """PEM bytes of a development CA and signing certificate and key."""

    ca_cert_pem: bytes
    signer_cert_pem: bytes
    """The signing certificate followed by the CA certificate (the chain)."""
    signer_key_pem: bytes
    """Unencrypted PKCS#8 (a development key; the file is written owner-only)."""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEVELOPMENT_ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _policy() -> x509.CertificatePolicies:
    notice = x509.UserNotice(notice_reference=None, explicit_text=DEVELOPMENT_NOTICE)
    info = x509.PolicyInformation(x509.ObjectIdentifier(DEVELOPMENT_POLICY_OID), [notice])
    return x509.CertificatePolicies([info])


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=signer,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    issuer_key: rsa.RSAPrivateKey,
    start: datetime,
    validity: timedelta,
    *,
    ca: bool,
) -> x509.Certificate:
    """A CA (``ca``) or signing certificate with the development policy."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(_key_usage(signer=not ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_policy(), critical=False)
    )
    if not ca:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())
        builder = builder.add_extension(aki, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def generate_dev_pki(now: datetime, issuer_name: str = "finance-engine") -> DevPki:
    """A fresh development CA and signing certificate (RSA-2048, SHA-256).

    Parameters
    ----------
    now
        Timezone-aware time the certificates become valid (less five minutes of clock skew).
    issuer_name
        Shown in the signing certificate's common name.
    """
    start = now - timedelta(minutes=5)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    ca_name = _name("finance-engine Development Report CA")
    ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, start, CA_VALIDITY, ca=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    subject = _name(f"{issuer_name} report signing (development)")
    cert = _certificate(
        subject, ca_name, key.public_key(), ca_key, start, SIGNER_VALIDITY, ca=False
    )
    pem = serialization.Encoding.PEM
    return DevPki(
        ca_cert_pem=ca.public_bytes(pem),
        signer_cert_pem=cert.public_bytes(pem) + ca.public_bytes(pem),
        signer_key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def is_development_certificate(cert: asn1_x509.Certificate) -> bool:
    """True when ``cert`` carries a development marker (organisation or policy OID)."""
    orgs = [
        str(v)
        for name in (cert.subject, cert.issuer)
        for k, v in name.native.items()
        if k == "organization_name"
    ]
    if any("DEVELOPMENT ONLY" in org for org in orgs):
        return True
    policies = cert.certificate_policies_value
    if policies is None:
        return False
    return any(p["policy_identifier"].dotted == DEVELOPMENT_POLICY_OID for p in policies)
