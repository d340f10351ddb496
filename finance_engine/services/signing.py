"""Report-signing keys: the development PKI, loading the configured key once per process, trust.

- :func:`create_dev_pki` writes a development CA and signing certificate under
  ``<instance>/keys`` (``finance-engine init`` calls it); both are marked as development.
- :func:`load_report_signer` loads the configured PKCS#12 file or PEM pair (else the development
  key) once per process and refuses a development certificate when ``FINANCE_ENGINE_ENV`` is
  ``production``.
- :func:`trust_roots` are the certificates verification trusts; :func:`report_timestamper` the
  timestamp authority (PAdES B-T) when one is configured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.api import TimeStamper

from finance_engine.config import ENV_PREFIX, Settings
from reports import ReportSigner, SigningKeyError, generate_dev_pki, is_development_certificate

KEYS_DIR = "keys"
DEV_CA_FILE = "dev-report-ca.pem"
DEV_CERT_FILE = "dev-report-signer.pem"
DEV_KEY_FILE = "dev-report-signer.key"


class SigningConfigError(ValueError):
    """The signing key, certificate or trust roots are missing, unreadable or not allowed."""


@dataclass(frozen=True)
class DevPkiPaths:
    """Files of the development PKI."""

    ca_cert: Path
    signer_cert: Path
    """Signing certificate followed by the CA certificate."""
    signer_key: Path
    created: bool
    """False when the files existed already and were kept."""


def dev_pki_paths(instance_path: Path) -> DevPkiPaths:
    """Where the development PKI lives under ``instance_path`` (whether or not it exists)."""
    keys = instance_path / KEYS_DIR
    return DevPkiPaths(keys / DEV_CA_FILE, keys / DEV_CERT_FILE, keys / DEV_KEY_FILE, False)


def create_dev_pki(
    instance_path: Path, *, now: datetime | None = None, issuer_name: str = "finance-engine"
) -> DevPkiPaths:
    """Create the development CA and signing certificate unless they exist (idempotent).

    The key file is written owner-read/write only. Certificates say ``DEVELOPMENT ONLY`` in
    their organisation and carry the development policy OID; production refuses them.
    """
    paths = dev_pki_paths(instance_path)
    if paths.ca_cert.exists() and paths.signer_cert.exists() and paths.signer_key.exists():
        return paths
    pki = generate_dev_pki(now or datetime.now(UTC), issuer_name)
    paths.ca_cert.parent.mkdir(parents=True, exist_ok=True)
    _write(paths.signer_key, pki.signer_key_pem, 0o600)
    _write(paths.signer_cert, pki.signer_cert_pem, 0o644)
    _write(paths.ca_cert, pki.ca_cert_pem, 0o644)
    _cached_signer.cache_clear()
    return DevPkiPaths(paths.ca_cert, paths.signer_cert, paths.signer_key, True)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _source(settings: Settings) -> tuple[str, Path, Path | None]:
    """(kind, first file, second file) of the configured key."""
    if settings.signing_pkcs12 is not None:
        return "pkcs12", settings.signing_pkcs12, None
    if settings.signing_key is not None and settings.signing_cert is not None:
        return "pem", settings.signing_key, settings.signing_cert
    if settings.environment == "production":
        raise SigningConfigError(
            f"no report-signing key configured: set {ENV_PREFIX}SIGNING_PKCS12 (and "
            f"{ENV_PREFIX}SIGNING_PASSPHRASE) or {ENV_PREFIX}SIGNING_KEY and "
            f"{ENV_PREFIX}SIGNING_CERT; the development key is refused in production"
        )
    dev = dev_pki_paths(settings.instance_path)
    if not dev.signer_key.exists():
        raise SigningConfigError(
            f"no report-signing key: {dev.signer_key} does not exist; run `finance-engine init` "
            f"to create the development key, or set {ENV_PREFIX}SIGNING_PKCS12"
        )
    return "pem", dev.signer_key, dev.signer_cert


def load_report_signer(settings: Settings) -> ReportSigner:
    """The report signer of ``settings``, loaded once per process (reloaded if a file changes).

    Raises
    ------
    SigningConfigError
        When no key is configured or found, a file is unreadable, the key does not match the
        certificate, the certificate has expired, or it is a development certificate and the
        environment is ``production``.
    """
    kind, first, second = _source(settings)
    try:
        stamp = (first.stat().st_mtime_ns, second.stat().st_mtime_ns if second else 0)
    except OSError as exc:
        raise SigningConfigError(f"cannot read the signing key file: {exc}") from exc
    passphrase = settings.signing_passphrase
    signer = _cached_signer(kind, first, second, stamp, passphrase)
    if settings.environment == "production" and signer.development:
        raise SigningConfigError(
            f"{first}: a development certificate ({signer.common_name}) cannot sign reports "
            "in production"
        )
    if signer.not_valid_after() <= datetime.now(UTC):
        raise SigningConfigError(
            f"{first}: the signing certificate expired {signer.not_valid_after()}"
        )
    return signer


@lru_cache(maxsize=4)
def _cached_signer(
    kind: str, first: Path, second: Path | None, stamp: tuple[int, int], passphrase: str
) -> ReportSigner:
    del stamp  # part of the cache key only: a replaced file is loaded again
    secret = passphrase.encode() if passphrase else None
    try:
        if kind == "pkcs12":
            return ReportSigner.from_pkcs12(first.read_bytes(), secret)
        assert second is not None
        return ReportSigner.from_pem(first.read_bytes(), second.read_bytes(), secret)
    except SigningKeyError as exc:
        raise SigningConfigError(f"{first}: {exc}") from exc
    except OSError as exc:
        raise SigningConfigError(f"cannot read the signing key: {exc}") from exc


def trust_roots(settings: Settings) -> tuple[asn1_x509.Certificate, ...]:
    """The certificates verification trusts.

    ``FINANCE_ENGINE_TRUST_ROOTS`` when set; otherwise, outside production, the development CA.
    Production refuses development roots.
    """
    path = settings.trust_roots
    if path is None:
        if settings.environment == "production":
            raise SigningConfigError(f"{ENV_PREFIX}TRUST_ROOTS: required in production")
        path = dev_pki_paths(settings.instance_path).ca_cert
    try:
        roots = tuple(load_certs_from_pemder_data(path.read_bytes()))
    except OSError as exc:
        raise SigningConfigError(f"cannot read the trust roots: {exc}") from exc
    except ValueError as exc:
        raise SigningConfigError(f"{path}: not a PEM certificate file ({exc})") from exc
    if not roots:
        raise SigningConfigError(f"{path}: holds no certificate")
    if settings.environment == "production" and any(is_development_certificate(r) for r in roots):
        raise SigningConfigError(f"{path}: a development CA cannot be trusted in production")
    return roots


def report_timestamper(settings: Settings) -> TimeStamper | None:
    """The configured timestamp authority (PAdES B-T), or None (B-B)."""
    if not settings.tsa_url:
        return None
    return HTTPTimeStamper(settings.tsa_url, https=settings.tsa_url.startswith("https://"))
