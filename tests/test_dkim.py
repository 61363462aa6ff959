"""DKIM signing: real digests signed with throw-away keys, verified with no network."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from digest.collect import collect
from digest.config import Settings
from digest.deliver import MemoryMailer
from digest.dispatch import send_digests
from digest.dkim import DkimSigner, signer_from_settings
from digest.errors import ConfigError
from digest.runtime import Runtime
from tests.conftest import NOW, Project, sample_edition

SELECTOR, DOMAIN = "digest2026", "news.example.com"
PEM, PKCS8, PKCS1 = (
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.PrivateFormat.TraditionalOpenSSL,
)
NO_PASSWORD = serialization.NoEncryption()


class Key:
    """A throw-away private key (PEM) and the TXT record that publishes its public half."""

    def __init__(self, private: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> None:
        self.pem = private.private_bytes(PEM, PKCS8, NO_PASSWORD)
        public = private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            der = public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            self.record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
        else:
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.record = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(raw)

    def dns(self, name: bytes, timeout: int = 5) -> bytes | None:
        """The one TXT record dkimpy asks for; no network."""
        return self.record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None


@pytest.fixture(scope="module")
def rsa_private() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module", params=["rsa", "ed25519"])
def key(request: pytest.FixtureRequest, rsa_private: rsa.RSAPrivateKey) -> Key:
    return Key(rsa_private if request.param == "rsa" else ed25519.Ed25519PrivateKey.generate())


@pytest.fixture
def digest_message(sample_runtime: Runtime) -> bytes:
    return sample_runtime.send_context.composer.envelope(sample_edition(sample_runtime)).data


def signature_tags(signed: bytes) -> dict[str, str]:
    header = message_from_bytes(signed, policy=policy.SMTP)["DKIM-Signature"]
    value = re.sub(r"\s+", "", str(header))
    return dict(tag.split("=", 1) for tag in value.split(";") if tag)


def test_signed_digest_verifies(key: Key, digest_message: bytes) -> None:
    signer = DkimSigner(SELECTOR, DOMAIN, key.pem)
    signed = signer.sign(digest_message)
    assert dkim.verify(signed, dnsfunc=key.dns)
    tags = signature_tags(signed)
    assert tags["a"] == signer.algorithm
    assert (tags["c"], tags["d"], tags["s"]) == ("relaxed/relaxed", DOMAIN, SELECTOR)
    expected = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}
    expected |= {"list-id", "list-unsubscribe", "list-unsubscribe-post"}
    assert set(tags["h"].split(":")) == expected


def test_from_is_over_signed(key: Key) -> None:
    """h= names From once more than the message holds it, so no verifier accepts a new From.

    (dkimpy's own verifier adds that extra From itself, so the tampering tests below would
    pass without over-signing; Gmail, OpenDKIM and others rely on the signer doing it.)
    """
    message = b"From: a@news.example.com\r\nTo: b@example.org\r\n\r\nHi\r\n"
    tags = signature_tags(DkimSigner(SELECTOR, DOMAIN, key.pem).sign(message))
    assert tags["h"].split(":") == ["from", "to", "from"]


def replace_header(message: bytes, name: bytes, value: bytes) -> bytes:
    head, _, body = message.partition(b"\r\n\r\n")
    pattern = re.compile(rb"^" + name + rb":.*?\r\n(?![ \t])", re.MULTILINE | re.DOTALL)
    changed, count = pattern.subn(name + b": " + value + b"\r\n", head + b"\r\n", count=1)
    assert count == 1
    return changed + b"\r\n" + body


def change_body(message: bytes) -> bytes:
    head, _, body = message.partition(b"\r\n\r\n")
    assert b"Ada Lovelace" in body
    return head + b"\r\n\r\n" + body.replace(b"Ada Lovelace", b"Ada Lovelacf", 1)


def add_from_after_headers(message: bytes) -> bytes:
    head, _, body = message.partition(b"\r\n\r\n")
    return head + b"\r\nFrom: Mallory <m@evil.example>\r\n\r\n" + body


TAMPERING: dict[str, Callable[[bytes], bytes]] = {
    "body": change_body,
    "subject": lambda m: replace_header(m, b"Subject", b"You won a prize"),
    "list-unsubscribe": lambda m: replace_header(
        m, b"List-Unsubscribe", b"<https://evil.example/unsubscribe>"
    ),
    "from-added-first": lambda m: b"From: Mallory <m@evil.example>\r\n" + m,
    "from-added-last": add_from_after_headers,
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_changes_after_signing_fail_verification(
    key: Key, digest_message: bytes, tamper: Callable[[bytes], bytes]
) -> None:
    signed = DkimSigner(SELECTOR, DOMAIN, key.pem).sign(digest_message)
    assert dkim.verify(signed, dnsfunc=key.dns)
    assert not dkim.verify(tamper(signed), dnsfunc=key.dns)


def test_signed_message_stays_canonical(key: Key, digest_message: bytes) -> None:
    signed = DkimSigner(SELECTOR, DOMAIN, key.pem).sign(digest_message)
    assert signed.startswith(b"DKIM-Signature: ")
    assert signed.endswith(b"\r\n" + digest_message)  # the header line ends CRLF
    assert b"\n" not in signed.replace(b"\r\n", b"") and b"\r" not in signed.replace(b"\r\n", b"")
    lines = signed.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    header = signed[: len(signed) - len(digest_message)].split(b"\r\n")[:-1]
    assert all(len(line) <= 78 and line.strip() for line in header)
    assert all(line[:1] in b" \t" for line in header[1:])  # folded, not new headers


def test_key_formats_and_algorithms(rsa_private: rsa.RSAPrivateKey) -> None:
    ed_pem = ed25519.Ed25519PrivateKey.generate().private_bytes(PEM, PKCS8, NO_PASSWORD)
    pkcs1 = rsa_private.private_bytes(PEM, PKCS1, NO_PASSWORD)
    crlf = rsa_private.private_bytes(PEM, PKCS8, NO_PASSWORD).replace(b"\n", b"\r\n")
    for pem, algorithm in ((ed_pem, "ed25519-sha256"), (pkcs1, "rsa-sha256"), (crlf, "rsa-sha256")):
        signer = DkimSigner(SELECTOR, DOMAIN, pem)
        assert signer.algorithm == algorithm
        assert b"From:" in signer.sign(b"From: a@news.example.com\r\nSubject: x\r\n\r\nHi\r\n")
    assert "PRIVATE" not in repr(signer) and "algorithm='rsa-sha256'" in repr(signer)


def test_signer_from_settings_is_none_when_unset() -> None:
    assert signer_from_settings(Settings()) is None


def test_signer_from_settings_defaults_to_the_sender_domain(
    project: Project, rsa_private: rsa.RSAPrivateKey
) -> None:
    path = project.root / "dkim.pem"
    path.write_bytes(rsa_private.private_bytes(PEM, PKCS8, NO_PASSWORD))
    env = {"DIGEST_DKIM_KEY_FILE": str(path), "DIGEST_DKIM_SELECTOR": SELECTOR}
    signer = signer_from_settings(project.settings(**env))
    assert signer is not None
    assert (signer.selector, signer.domain) == (SELECTOR, "bayside.example.com")
    signer = signer_from_settings(project.settings(**env, DIGEST_DKIM_DOMAIN="example.com"))
    assert signer is not None and signer.domain == "example.com"


def der_item(tag: int, content: bytes) -> bytes:
    assert len(content) < 256
    length = bytes([len(content)]) if len(content) < 128 else bytes([0x81, len(content)])
    return bytes([tag]) + length + content


def small_rsa_pem() -> bytes:
    """A 512-bit RSA key as far as its encoding goes (dkimpy reads the numbers unchecked)."""
    numbers = [0, 2**511 + 1, 65537, *range(3, 9)]  # version, modulus, exponent, ...
    integers = b"".join(der_item(2, n.to_bytes(n.bit_length() // 8 + 1, "big")) for n in numbers)
    der = der_item(0x30, integers)
    pem = base64.encodebytes(der)
    return b"-----BEGIN RSA PRIVATE KEY-----\n" + pem + b"-----END RSA PRIVATE KEY-----\n"


BAD_KEYS: dict[str, tuple[Callable[[], bytes], str]] = {
    "garbage": (lambda: b"not a key\n", "holds no PEM private key"),
    "broken-pem": (
        lambda: b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "not an RSA or Ed25519",
    ),
    "encrypted": (
        lambda: ed25519.Ed25519PrivateKey.generate().private_bytes(
            PEM, PKCS8, serialization.BestAvailableEncryption(b"secret")
        ),
        "is encrypted",
    ),
    "ec": (
        lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(PEM, PKCS8, NO_PASSWORD),
        "not an RSA or Ed25519",
    ),
    "ec-sec1": (
        lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(PEM, PKCS1, NO_PASSWORD),
        "`EC PRIVATE KEY` block",
    ),
    "bad-base64": (
        lambda: b"-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n",
        "not valid PEM",
    ),
    "rsa-512": (small_rsa_pem, "512-bit RSA key"),
}


@pytest.mark.parametrize("make, error", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_bad_key_file_is_a_config_error(
    tmp_path: Path, make: Callable[[], bytes], error: str
) -> None:
    path = tmp_path / "dkim.pem"
    path.write_bytes(make())
    settings = Settings(dkim_key_file=str(path), dkim_selector=SELECTOR)
    with pytest.raises(ConfigError, match=error) as caught:
        signer_from_settings(settings)
    assert caught.value.path == str(path)
    assert "openssl genpkey" in str(caught.value)


def test_unreadable_key_file_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings(dkim_key_file=str(tmp_path), dkim_selector=SELECTOR)
    with pytest.raises(ConfigError, match="cannot read the DKIM key") as caught:
        signer_from_settings(settings)
    assert caught.value.path == str(tmp_path)


def test_selector_must_be_a_dns_name(tmp_path: Path) -> None:
    settings = Settings(dkim_key_file=str(tmp_path), dkim_selector="my selector")
    with pytest.raises(ConfigError, match="DIGEST_DKIM_SELECTOR"):
        signer_from_settings(settings)
    with pytest.raises(ValueError, match="DNS names"):
        DkimSigner("s", "bücher.example", b"")


def test_every_digest_sent_is_signed_when_a_key_is_configured(
    key: Key, tmp_path: Path, project: Project
) -> None:
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(key.pem)
    runtime = project.runtime(
        DIGEST_DKIM_KEY_FILE=str(key_file), DIGEST_DKIM_SELECTOR=SELECTOR, DIGEST_DKIM_DOMAIN=DOMAIN
    )
    mailer = MemoryMailer()
    try:
        collect(runtime.sources, runtime.store, runtime.settings, NOW)
        send_digests(runtime.subscribers, runtime.send_context, lambda: mailer)
    finally:
        runtime.close()

    assert len(mailer.sent) == 2
    assert all(e.data.startswith(b"DKIM-Signature:") for e in mailer.sent)
    assert all(dkim.verify(e.data, dnsfunc=key.dns) for e in mailer.sent)
