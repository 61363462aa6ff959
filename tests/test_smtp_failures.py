"""Every way an SMTP delivery can fail, against a real aiosmtpd server on 127.0.0.1.

`DeliveryError.permanent` is True only when the server refused the message for good (5xx);
anything a later attempt may fix is temporary, and leaves the mailer ready to reconnect.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
import trustme

from digest.deliver import SmtpMailer
from digest.errors import DeliveryError
from digest.models import Envelope

from .servers import SmtpServer, Step, server_tls_context, smtp_server
from .test_deliver import envelope, smtp_settings, starttls_auth_options

FINE = "fine@example.com"
TROUBLE = "trouble@example.com"
HANG_UP = "hang up"  # instead of a reply: close the connection without answering
STALL = "stall"  # instead of a reply: never answer


def misbehave(server: SmtpServer, step: Step, reply: str) -> None:
    """Make the server answer TROUBLE at `step` with `reply`, or HANG_UP or STALL there."""
    handler = server.handler
    if reply == HANG_UP:
        handler.drop[TROUBLE] = step
    elif reply == STALL:
        handler.stall[TROUBLE] = step
    else:
        (handler.refuse_rcpt if step == "RCPT" else handler.refuse_data)[TROUBLE] = reply


def failure(mailer: SmtpMailer, to: str = TROUBLE) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        mailer.send(envelope(to))
    return caught.value


def recipients(server: SmtpServer) -> list[list[str]]:
    return [received.recipients for received in server.received]


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def mailer(server: SmtpServer) -> Iterator[SmtpMailer]:
    with SmtpMailer(smtp_settings(server.port)) as opened:
        yield opened


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(certificate_authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.mark.parametrize("step", ["RCPT", "DATA"])
@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        ("421 4.3.2 Service shutting down", False),
        ("451 4.3.0 Try again later", False),
        ("452 4.2.2 Mailbox full", False),
        ("550 5.1.1 No such user", True),
        ("554 5.7.1 Message refused", True),
    ],
)
def test_only_a_5xx_is_permanent_and_the_error_quotes_the_server(
    server: SmtpServer, mailer: SmtpMailer, step: Step, reply: str, permanent: bool
) -> None:
    misbehave(server, step, reply)

    error = failure(mailer)

    assert error.permanent is permanent
    assert reply in str(error)
    assert server.received == []


@pytest.mark.parametrize(
    ("step", "reply"),
    [
        ("RCPT", "451 4.3.0 Try again later"),
        ("DATA", "452 4.3.1 Insufficient storage"),
        ("RCPT", "421 4.3.2 Service shutting down"),
        ("DATA", "421 4.3.2 Service shutting down"),
        ("RCPT", HANG_UP),
    ],
)
def test_after_a_temporary_failure_the_next_send_reconnects(
    server: SmtpServer, mailer: SmtpMailer, step: Step, reply: str
) -> None:
    misbehave(server, step, reply)

    assert failure(mailer).permanent is False
    mailer.send(envelope(FINE))

    assert server.connections == 2
    assert recipients(server) == [[FINE]]


@pytest.mark.parametrize("step", ["RCPT", "DATA"])
def test_a_refused_recipient_does_not_stop_the_batch(
    server: SmtpServer, mailer: SmtpMailer, step: Step
) -> None:
    misbehave(server, step, "550 5.1.1 No such user")

    assert failure(mailer).permanent is True
    mailer.send(envelope(FINE))

    assert server.connections == 1
    assert recipients(server) == [[FINE]]


def test_a_refusal_followed_by_a_hang_up_does_not_cost_the_next_recipient(
    server: SmtpServer, mailer: SmtpMailer
) -> None:
    server.handler.closing_codes = ("421", "554")
    misbehave(server, "RCPT", "554 5.7.1 Too many errors, bye")

    assert failure(mailer).permanent is True
    mailer.send(envelope(FINE))

    assert server.connections == 2
    assert recipients(server) == [[FINE]]


def test_a_hang_up_mid_data_is_temporary_and_nothing_is_received(
    server: SmtpServer, mailer: SmtpMailer
) -> None:
    misbehave(server, "DATA", HANG_UP)

    assert failure(mailer).permanent is False
    assert server.received == []
    mailer.send(envelope(FINE))

    assert server.connections == 2
    assert recipients(server) == [[FINE]]


@pytest.mark.parametrize("step", ["RCPT", "DATA"])
def test_a_silent_server_times_out_as_temporary(server: SmtpServer, step: Step) -> None:
    settings = dataclasses.replace(smtp_settings(server.port), smtp_timeout=0.5)
    misbehave(server, step, STALL)

    with SmtpMailer(settings) as mailer:
        started = time.monotonic()
        error = failure(mailer)
        waited = time.monotonic() - started
        mailer.send(envelope(FINE))

    assert error.permanent is False
    assert "timed out" in str(error)
    assert 0.45 < waited < 2.0  # about the timeout: not the 30 s default, and no hang
    assert server.connections == 2
    assert recipients(server) == [[FINE]]


@pytest.mark.parametrize(
    ("user", "password"), [("digest", "wrong-password"), ("", "")], ids=["wrong", "none"]
)
def test_login_problems_are_temporary_and_name_the_settings(
    certificate_authority: trustme.CA, ca_file: str, user: str, password: str
) -> None:
    with smtp_server(**starttls_auth_options(certificate_authority)) as server:
        settings = smtp_settings(
            server.port,
            SMTP_TLS="starttls",
            SMTP_CA_FILE=ca_file,
            SMTP_USER=user,
            SMTP_PASSWORD=password,
        )
        with SmtpMailer(settings) as mailer:
            error = failure(mailer, FINE)

    assert error.permanent is False
    assert "SMTP_USER" in str(error) and "SMTP_PASSWORD" in str(error)
    assert "wrong-password" not in str(error)
    assert server.received == []


def tls_server(authority: trustme.CA, tls: str) -> AbstractContextManager[SmtpServer]:
    """A server speaking STARTTLS or implicit TLS with a certificate from `authority`."""
    context = server_tls_context(authority.issue_cert("127.0.0.1"))
    if tls == "starttls":
        return smtp_server(tls_context=context, require_starttls=True)
    return smtp_server(ssl_context=context)


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_an_untrusted_certificate_is_temporary_and_names_smtp_ca_file(
    certificate_authority: trustme.CA, tls: str
) -> None:
    with tls_server(certificate_authority, tls) as server:
        mailer = SmtpMailer(smtp_settings(server.port, SMTP_TLS=tls))
        error = failure(mailer, FINE)

    assert error.permanent is False
    assert "certificate" in str(error)
    assert "SMTP_CA_FILE" in str(error)
    assert server.received == []


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_a_certificate_trusted_through_smtp_ca_file_delivers(
    certificate_authority: trustme.CA, ca_file: str, tls: str
) -> None:
    with tls_server(certificate_authority, tls) as server:
        settings = smtp_settings(server.port, SMTP_TLS=tls, SMTP_CA_FILE=ca_file)
        with SmtpMailer(settings) as mailer:
            mailer.send(envelope(FINE))

    assert recipients(server) == [[FINE]]


def test_the_server_receives_exactly_the_bytes_given(
    server: SmtpServer, mailer: SmtpMailer
) -> None:
    data = (
        b"From: News <news@example.com>\r\n"
        b"to: fine@example.com\r\n"
        b"Subject:   odd spacing, kept\r\n"
        b"X-Folded: first part\r\n\tsecond part\r\n"
        b"Message-ID: <exact@example.com>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"Caf\xc3\xa9 au lait\r\n"
    )

    mailer.send(Envelope("news@example.com", FINE, "<exact@example.com>", data, "exact"))

    [received] = server.received
    assert received.data == data
    assert (received.sender, received.recipients) == ("news@example.com", [FINE])


def test_lines_starting_with_a_dot_arrive_intact(server: SmtpServer, mailer: SmtpMailer) -> None:
    # a lone "." would end the message early, and a leading one would be eaten, unless stuffed
    data = b"Subject: dots\r\n\r\n.\r\n..two\r\n.one\r\nlast\r\n"

    mailer.send(Envelope("news@example.com", FINE, "<dots@example.com>", data, "dots"))

    assert [received.data for received in server.received] == [data]


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    """Servers close idle sessions (aiosmtpd here after 0.3 s); the next digest still goes."""
    with smtp_server(timeout=0.3) as server:
        mailer = SmtpMailer(smtp_settings(server.port))
        mailer.IDLE_CHECK_SECONDS = 0.1
        mailer.send(envelope("first@example.com"))
        time.sleep(0.6)
        mailer.send(envelope("second@example.com"))
        mailer.close()

    assert [r.recipients for r in server.received] == [
        ["first@example.com"],
        ["second@example.com"],
    ]
    assert server.connections == 2
