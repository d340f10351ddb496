"""PAdES signatures on reports with pyHanko: key loading once, the signed attachment, the stamp.

A :class:`ReportSigner` is built once per process from a PKCS#12 file or a PEM key and
certificate (chain) and reused: pyHanko's ``SimpleSigner`` parses the private key again for every
signature, :class:`CachedKeySigner` keeps the parsed key. :func:`sign_report_pdf` embeds the report
data as a JSON attachment and signs in the same incremental revision, so the signature covers the
attachment; the signature is a certification signature that permits no changes (DocMDP level 1),
PAdES B-B, or B-T when a timestamper is given, with the report's stamp as its visible appearance
on the last page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import content as pdf_content
from pyhanko.pdf_utils import embed, generic, layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from reports.layout import StampPlacement
from reports.pki import is_development_certificate

SIGNATURE_FIELD = "ReportSignature"
MD_ALGORITHM = "sha256"
BASE_RESERVED_BYTES = 4096
"""Room for the CMS structure and signature value, on top of the certificates it embeds."""
TIMESTAMP_RESERVED_BYTES = 8192
"""Extra room for a timestamp token (its own signature and TSA certificates)."""


class SigningKeyError(ValueError):
    """The signing key or certificate cannot be loaded or used; says why."""


class CachedKeySigner(signers.SimpleSigner):
    """A ``SimpleSigner`` that parses its private key once instead of on every signature."""

    def __init__(
        self,
        signing_cert: asn1_x509.Certificate,
        signing_key: asn1_keys.PrivateKeyInfo,
        cert_registry: SimpleCertificateStore,
        private_key: object,
    ) -> None:
        super().__init__(
            signing_cert=signing_cert, signing_key=signing_key, cert_registry=cert_registry
        )
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """Sign with the parsed key (RSA PKCS#1 v1.5 and ECDSA; others defer to pyHanko)."""
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        digest = get_pyca_cryptography_hash(digest_algorithm)
        key = self._private_key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
            return key.sign(data, PKCS1v15(), digest)
        if mechanism == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
            return key.sign(data, ECDSA(digest))
        signed: bytes = super().sign_raw(data, digest_algorithm)
        return signed


@dataclass(frozen=True)
class ReportSigner:
    """A loaded signing key with its certificate chain. Build once, sign many reports."""

    signer: CachedKeySigner
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]
    """Further certificates (intermediates, root) embedded in signatures."""

    @property
    def development(self) -> bool:
        """True when the certificate carries a development marker."""
        return is_development_certificate(self.certificate)

    @property
    def common_name(self) -> str:
        """The signing certificate's common name (shown on the stamp)."""
        return str(self.certificate.subject.native.get("common_name", ""))

    @property
    def reserved_bytes(self) -> int:
        """Bytes to reserve for a B-B signature embedding this chain (even, as pyHanko requires:
        certificate sizes vary with their random serial numbers, so an odd sum must round up)."""
        raw = BASE_RESERVED_BYTES + sum(len(c.dump()) for c in (self.certificate, *self.chain))
        return raw + raw % 2

    @classmethod
    def from_pkcs12(cls, data: bytes, passphrase: bytes | None) -> ReportSigner:
        """Load from PKCS#12 bytes (key, certificate and any chain)."""
        try:
            key, cert, others = pkcs12.load_key_and_certificates(data, passphrase)
        except ValueError as exc:
            raise SigningKeyError(
                f"cannot read the PKCS#12 data (wrong passphrase?): {exc}"
            ) from exc
        if key is None or cert is None:
            raise SigningKeyError("the PKCS#12 data holds no private key or no certificate")
        der = cert.public_bytes(serialization.Encoding.DER)
        chain = [c.public_bytes(serialization.Encoding.DER) for c in others]
        return cls._build(key, der, chain)

    @classmethod
    def from_pem(
        cls, key_pem: bytes, cert_pem: bytes, passphrase: bytes | None = None
    ) -> ReportSigner:
        """Load from a PEM private key and a PEM file whose first certificate is the signer's."""
        try:
            key = serialization.load_pem_private_key(key_pem, passphrase)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"cannot read the PEM private key: {exc}") from exc
        try:
            certs = [c.dump() for c in _pem_certificates(cert_pem)]
        except ValueError as exc:
            raise SigningKeyError(f"cannot read the PEM certificate: {exc}") from exc
        if not certs:
            raise SigningKeyError("the certificate file holds no PEM certificate")
        return cls._build(key, certs[0], certs[1:])

    @classmethod
    def _build(cls, key: object, cert_der: bytes, chain_der: Sequence[bytes]) -> ReportSigner:
        cert = asn1_x509.Certificate.load(cert_der)
        chain = tuple(asn1_x509.Certificate.load(d) for d in chain_der)
        public = key.public_key()  # type: ignore[attr-defined]
        spki = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if spki != cert.public_key.dump():
            raise SigningKeyError("the private key does not match the signing certificate")
        key_der = key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
        registry.register_multiple(chain)
        signer = CachedKeySigner(cert, asn1_keys.PrivateKeyInfo.load(key_der), registry, key)
        return cls(signer=signer, certificate=cert, chain=chain)

    def not_valid_after(self) -> datetime:
        """End of the signing certificate's validity."""
        end: datetime = self.certificate.not_valid_after
        return end


def _pem_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    from pyhanko.keys import load_certs_from_pemder_data

    return list(load_certs_from_pemder_data(data))


class _FormAppearance(pdf_content.PdfContent):
    """A signature appearance that shows a form XObject already in the document."""

    def __init__(self, form_ref: generic.IndirectObject, width: float, height: float) -> None:
        super().__init__(box=layout.BoxConstraints(width=width, height=height))
        self._form_ref = form_ref

    def render(self) -> bytes:
        self.resources.xobject["/ReportStamp"] = self._form_ref
        return b"/ReportStamp Do"


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF (the report data)."""

    name: str
    data: bytes
    mime_type: str = "application/json"
    description: str = ""


def _stamp_style(writer: IncrementalPdfFileWriter, stamp: StampPlacement) -> StaticStampStyle:
    _, resources = writer.find_page_for_modification(stamp.page_index)  # type: ignore[no-untyped-call]
    try:
        form_ref = resources["/XObject"].raw_get(stamp.resource_name)
    except KeyError as exc:
        raise SigningKeyError(f"the stamp form {stamp.resource_name} is not on the page") from exc
    x1, y1, x2, y2 = stamp.box
    rule = layout.SimpleBoxLayoutRule(
        x_align=layout.AxisAlignment.ALIGN_MIN,
        y_align=layout.AxisAlignment.ALIGN_MIN,
        margins=layout.Margins(0, 0, 0, 0),
        inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
    )
    return StaticStampStyle(
        background=_FormAppearance(form_ref, x2 - x1, y2 - y1),
        background_opacity=1.0,
        border_width=0,
        background_layout=rule,
    )


def _embed(writer: IncrementalPdfFileWriter, attachment: Attachment) -> None:
    """Add ``attachment`` to the document's embedded files (in the revision being written)."""
    stream = embed.EmbeddedFileObject.from_file_data(
        writer, attachment.data, mime_type=attachment.mime_type
    )
    spec = embed.FileSpec(
        file_spec_string=attachment.name,
        file_name=attachment.name,
        embedded_data=stream,
        description=attachment.description or None,
    )
    embed.embed_file(writer, spec)


def sign_report_pdf(
    pdf: bytes,
    stamp: StampPlacement,
    signer: ReportSigner,
    *,
    attachment: Attachment,
    timestamper: TimeStamper | None = None,
    reason: str = "Carbon credit report",
    location: str = "",
) -> bytes:
    """Embed ``attachment`` and sign ``pdf`` in one incremental revision.

    Parameters
    ----------
    stamp
        Where the layout drew the stamp form (it becomes the signature's appearance).
    timestamper
        A signature timestamp source (B-T); None signs B-B.

    Returns
    -------
    The signed PDF.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    _embed(writer, attachment)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm=MD_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=reason,
        location=location or None,
    )
    box: Any = tuple(round(v, 2) for v in stamp.box)  # PDF rectangles take reals
    field_spec = fields.SigFieldSpec(SIGNATURE_FIELD, on_page=stamp.page_index, box=box)
    pdf_signer = signers.PdfSigner(
        meta,
        signer.signer,
        timestamper=timestamper,
        stamp_style=_stamp_style(writer, stamp),
        new_field_spec=field_spec,
    )
    reserved = signer.reserved_bytes + (TIMESTAMP_RESERVED_BYTES if timestamper else 0)
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out, bytes_reserved=reserved)
    return out.getvalue()
