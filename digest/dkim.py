"""DKIM signatures on outgoing digests (RFC 6376, and RFC 8463 for Ed25519), made by dkimpy."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path

import dkim
import dkim.crypto

from digest.config import Settings
from digest.errors import ConfigError

# Gmail's one-click unsubscribe needs both List-Unsubscribe headers covered by the signature.
SIGNED_HEADERS = frozenset(
    b"from to subject date message-id mime-version content-type list-id list-unsubscribe "
    b"list-unsubscribe-post".split()
)
RSA_MIN_BITS = 1024  # receivers ignore signatures from smaller keys (RFC 8301)
NEW_KEY = (
    "make one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim.pem` "
    "and publish its public key as a TXT record at {selector}._domainkey.{domain}"
)
_DNS_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")  # ASCII labels: xn-- for IDNs
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----(.*?)-----END \1-----", re.DOTALL)
# PKCS#8 for Ed25519: version, then this AlgorithmIdentifier and the 32-byte seed's header
_ED25519 = bytes.fromhex("300506032b657004220420")


@dataclass(frozen=True)
class DkimSigner:
    """Signs messages for `domain`, whose public key is at `<selector>._domainkey.<domain>`.

    `private_key` is PEM: RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8, as `openssl genpkey`
    writes it). A key that is not one of those raises ValueError here, not at the first send.
    """

    selector: str
    domain: str
    private_key: bytes = field(repr=False)
    algorithm: str = field(init=False)  # rsa-sha256 or ed25519-sha256, from the key
    _dkimpy_key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (_DNS_NAME.fullmatch(self.selector) and _DNS_NAME.fullmatch(self.domain)):
            raise ValueError(f"{self.selector!r} and {self.domain!r} must be ASCII DNS names")
        algorithm, key = dkimpy_key(self.private_key)
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "_dkimpy_key", key)

    def sign(self, message: bytes) -> bytes:
        """`message` (canonical CRLF bytes) with a `DKIM-Signature:` header line prepended."""
        signer = dkim.DKIM(message, signature_algorithm=self.algorithm.encode("ascii"))
        names = [name for name, _ in signer.headers if name.lower() in SIGNED_HEADERS]
        # From once more than it occurs: a From added after signing breaks the signature
        signature: bytes = signer.sign(
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self._dkimpy_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[*names, b"from"],
        )
        return signature + message


def signer_from_settings(settings: Settings) -> DkimSigner | None:
    """The signer DIGEST_DKIM_* describe, or None when DKIM signing is not configured."""
    if not settings.dkim_key_file:
        return None
    domain = settings.dkim_domain or settings.sender_domain
    names = {"DIGEST_DKIM_SELECTOR": settings.dkim_selector, "DIGEST_DKIM_DOMAIN": domain}
    for variable, name in names.items():
        if not _DNS_NAME.fullmatch(name):
            message = f"{name!r} is not an ASCII DNS name (use xn--… for international ones)."
            raise ConfigError(variable, None, message)
    path = Path(settings.dkim_key_file)
    try:
        return DkimSigner(settings.dkim_selector, domain, path.read_bytes())
    except OSError as exc:
        message = f"cannot read the DKIM key ({exc.strerror}); make it readable by digest's user."
        raise ConfigError(path, None, message) from exc
    except ValueError as exc:
        fix = NEW_KEY.format(selector=settings.dkim_selector, domain=domain)
        raise ConfigError(path, None, f"{exc}; {fix}.") from exc


def dkimpy_key(pem: bytes) -> tuple[str, bytes]:
    """The signing algorithm of a PEM private key and the key in the form dkimpy takes.

    dkimpy wants RSA keys as PEM with LF line ends and Ed25519 keys as a base64 seed.
    """
    found = _PEM.search(pem)
    if found is None:
        raise ValueError("holds no PEM private key (-----BEGIN PRIVATE KEY-----)")
    label = found[1]
    if b"ENCRYPTED" in label or b"ENCRYPTED" in found[2]:
        raise ValueError("is encrypted; decrypt it with `openssl pkey -in KEY -out KEY.plain`")
    try:
        der = base64.b64decode(found[2])
    except binascii.Error as exc:
        raise ValueError(f"is not valid PEM ({exc})") from exc
    if label == b"PRIVATE KEY" and der[5:16] == _ED25519 and len(der) >= 48:
        return "ed25519-sha256", base64.b64encode(der[16:48])
    if label in (b"RSA PRIVATE KEY", b"PRIVATE KEY"):
        return "rsa-sha256", _rsa_pem(der)
    raise ValueError(f"holds an `{label.decode()}` block, not an RSA or Ed25519 key")


def _rsa_pem(der: bytes) -> bytes:
    try:
        bits = int(dkim.crypto.parse_private_key(der)["modulus"]).bit_length()
    except Exception as exc:  # dkimpy's ASN.1 parser raises assorted errors on garbage
        raise ValueError("is not an RSA or Ed25519 private key") from exc
    if bits < RSA_MIN_BITS:
        raise ValueError(f"is a {bits}-bit RSA key; receivers need at least {RSA_MIN_BITS} bits")
    body = base64.encodebytes(der)
    return b"-----BEGIN PRIVATE KEY-----\n" + body + b"-----END PRIVATE KEY-----\n"
