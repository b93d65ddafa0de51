"""Real key material for the emulated certificate-key pairs.

Each key pair is an RSA key and a self-signed X.509 certificate made with ``cryptography``
the first time it is asked for, then kept for the life of the process (resets and several
server instances share it; generating keys is the slow part). ``KeyMaterial`` offers what the
API, JWKS and a future token endpoint need: PEMs, fingerprints, the ``kid`` authentik uses,
the JWK, and ``sign_rs256()``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

KEY_BITS = 2048  # authentik uses 4096; 2048 keeps start-up fast and is the same to a client

_LOCK = threading.Lock()
_CACHE: dict[str, "KeyMaterial"] = {}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(number: int) -> str:
    length = max(1, (number.bit_length() + 7) // 8)
    return b64url(number.to_bytes(length, "big"))


def _colon_hex(data: bytes) -> str:
    return ":".join("%02x" % b for b in data)


@dataclass
class KeyMaterial:
    """One certificate with its RSA private key."""

    name: str
    private_key: Any
    certificate: x509.Certificate
    private_key_pem: str = ""
    certificate_pem: str = ""
    certificate_der: bytes = b""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.private_key_pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")
        self.certificate_pem = self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self.certificate_der = self.certificate.public_bytes(serialization.Encoding.DER)

    # ---- what the certificatekeypairs API shows --------------------------------------------
    @property
    def fingerprint_sha256(self) -> str:
        return _colon_hex(self.certificate.fingerprint(hashes.SHA256()))

    @property
    def fingerprint_sha1(self) -> str:
        return _colon_hex(self.certificate.fingerprint(hashes.SHA1()))  # noqa: S303 - fingerprint only

    @property
    def cert_expiry(self) -> str:
        return self.certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def cert_subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def kid(self) -> str:
        """authentik's key id: the MD5 hex digest of the private key PEM."""
        return hashlib.md5(self.private_key_pem.encode("utf-8"), usedforsecurity=False).hexdigest()

    @property
    def public_key(self) -> Any:
        return self.private_key.public_key()

    def jwk(self, use: str = "sig", alg: str = "RS256") -> dict[str, Any]:
        """The JWKS entry authentik publishes for this key pair (same keys, same order)."""
        numbers = self.public_key.public_numbers()
        return {
            "alg": alg,
            "kid": self.kid,
            "kty": "RSA",
            "use": use,
            "n": _int_b64url(numbers.n),
            "e": _int_b64url(numbers.e),
            "x5c": [base64.b64encode(self.certificate_der).decode("ascii")],
            "x5t": b64url(hashlib.sha1(self.certificate_der, usedforsecurity=False).digest()),
            "x5t#S256": b64url(hashlib.sha256(self.certificate_der).digest()),
        }

    def sign_rs256(self, data: bytes) -> bytes:
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _make(name: str, org_unit: str) -> KeyMaterial:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "authentik"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, org_unit),
    ])
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("self-signed.goauthentik.io")]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyMaterial(name=name, private_key=key, certificate=cert)


def key_material(name: str, org_unit: str = "Self-signed") -> KeyMaterial:
    """The key material called ``name``, made once per process."""
    with _LOCK:
        if name not in _CACHE:
            _CACHE[name] = _make(name, org_unit)
        return _CACHE[name]
