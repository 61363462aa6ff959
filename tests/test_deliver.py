from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from digest.config import Settings, load_settings
from digest.deliver import MemoryMailer, OutboxMailer, SmtpMailer, html_part, mailer_for
from digest.errors import DeliveryError
from digest.models import Envelope

from .servers import password_checker, server_tls_context, smtp_server

MESSAGE = (
    b"From: News <news@example.com>\r\nTo: a@example.com\r\nSubject: Hi\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
    b"--b\r\nContent-Type: text/html\r\n\r\n<p>Hello</p>\r\n--b--\r\n"
)


def envelope(to: str = "a@example.com", name: str = "2026-11-26-a") -> Envelope:
    return Envelope("news@example.com", to, "<id@example.com>", MESSAGE, name)


def smtp_settings(port: int, **extra: str) -> Settings:
    return load_settings(
        None,
        {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_TLS": "none",
            "SMTP_TIMEOUT": "5",
            **extra,
        },
    )


def starttls_auth_options(authority: trustme.CA) -> dict[str, object]:
    """A server that insists on STARTTLS, then on AUTH as digest / s3cret."""
    return {
        "tls_context": server_tls_context(authority.issue_cert("127.0.0.1")),
        "require_starttls": True,
        "authenticator": password_checker("digest", "s3cret"),
        "auth_required": True,
    }


def starttls_settings(port: int, ca_file: str, password: str) -> Settings:
    return smtp_settings(
        port, SMTP_TLS="starttls", SMTP_USER="digest", SMTP_PASSWORD=password, SMTP_CA_FILE=ca_file
    )


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(
    certificate_authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    yield str(path)


def test_plain_smtp_delivers_many_messages_on_one_connection() -> None:
    with smtp_server() as server:
        mailer = SmtpMailer(smtp_settings(server.port))
        mailer.send(envelope("a@example.com"))
        connection = mailer._connection
        mailer.send(envelope("b@example.com"))
        assert mailer._connection is connection
        mailer.close()

    assert [r.recipients for r in server.received] == [["a@example.com"], ["b@example.com"]]
    assert server.received[0].data.startswith(b"From: News")


def test_starttls_with_auth(certificate_authority: trustme.CA, ca_file: str) -> None:
    with smtp_server(**starttls_auth_options(certificate_authority)) as server:
        settings = starttls_settings(server.port, ca_file, password="s3cret")
        with SmtpMailer(settings) as mailer:
            mailer.send(envelope())

    assert len(server.received) == 1


def test_wrong_password_is_a_clear_temporary_failure(
    certificate_authority: trustme.CA, ca_file: str
) -> None:
    with smtp_server(**starttls_auth_options(certificate_authority)) as server:
        settings = starttls_settings(server.port, ca_file, password="wrong-password")
        with SmtpMailer(settings) as mailer, pytest.raises(DeliveryError) as caught:
            mailer.send(envelope())

    assert "SMTP_PASSWORD" in str(caught.value)
    assert "wrong-password" not in str(caught.value)
    assert caught.value.permanent is False
    assert server.received == []


def test_untrusted_certificate_is_refused(certificate_authority: trustme.CA) -> None:
    cert = certificate_authority.issue_cert("127.0.0.1")
    with smtp_server(tls_context=server_tls_context(cert), require_starttls=True) as server:
        mailer = SmtpMailer(smtp_settings(server.port, SMTP_TLS="starttls"))
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            mailer.send(envelope())

    assert server.received == []


def test_implicit_tls(certificate_authority: trustme.CA, ca_file: str) -> None:
    from aiosmtpd.controller import Controller

    from .servers import RecordingHandler, free_port

    cert = certificate_authority.issue_cert("127.0.0.1")
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, ssl_context=server_tls_context(cert)
    )
    controller.start()
    try:
        with SmtpMailer(smtp_settings(port, SMTP_TLS="ssl", SMTP_CA_FILE=ca_file)) as mailer:
            mailer.send(envelope())
    finally:
        controller.stop()

    assert len(handler.received) == 1


def test_refusals_are_permanent_or_temporary_by_code() -> None:
    with smtp_server() as server:
        server.handler.refuse_rcpt["gone@example.com"] = "550 5.1.1 No such user"
        server.handler.refuse_data["busy@example.com"] = "451 4.3.0 Try again later"
        mailer = SmtpMailer(smtp_settings(server.port))
        with pytest.raises(DeliveryError) as gone:
            mailer.send(envelope("gone@example.com"))
        with pytest.raises(DeliveryError) as busy:
            mailer.send(envelope("busy@example.com"))
        mailer.send(envelope("fine@example.com"))
        mailer.close()

    assert gone.value.permanent and "550" in str(gone.value)
    assert not busy.value.permanent and "451" in str(busy.value)
    assert [r.recipients for r in server.received] == [["fine@example.com"]]


def test_unreachable_server_is_temporary() -> None:
    from .servers import free_port

    mailer = SmtpMailer(smtp_settings(free_port()))
    with pytest.raises(DeliveryError) as caught:
        mailer.send(envelope())

    assert caught.value.permanent is False


def test_outbox_writes_eml_and_html_copy(tmp_path: Path) -> None:
    OutboxMailer(tmp_path / "outbox").send(envelope())

    assert (tmp_path / "outbox" / "2026-11-26-a.eml").read_bytes() == MESSAGE
    assert "<p>Hello</p>" in (tmp_path / "outbox" / "2026-11-26-a.html").read_text()
    assert not list((tmp_path / "outbox").glob("*.tmp"))


def test_html_part_of_a_text_only_message_is_none() -> None:
    assert html_part(b"Subject: x\r\nContent-Type: text/plain\r\n\r\nHi\r\n") is None


def test_mailer_choice_follows_smtp_host(tmp_path: Path) -> None:
    assert isinstance(
        mailer_for(load_settings(None, {"SMTP_HOST": "mail.example.com"})), SmtpMailer
    )
    assert isinstance(mailer_for(load_settings(None, {})), OutboxMailer)
    memory = MemoryMailer()
    memory.send(envelope())
    assert memory.sent == [envelope()]
