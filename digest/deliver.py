"""Mailers: one `send` protocol, with SMTP, outbox-folder and in-memory implementations."""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from digest.config import Settings
from digest.errors import DeliveryError
from digest.models import Envelope

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class Mailer(Protocol):
    """Delivers ready-made messages; raises DeliveryError when one is not accepted."""

    def send(self, envelope: Envelope) -> None: ...

    def close(self) -> None: ...


class MemoryMailer:
    """Keeps messages in a list: for tests and dry runs."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    def send(self, envelope: Envelope) -> None:
        self.sent.append(envelope)

    def close(self) -> None:
        pass


class OutboxMailer:
    """Writes each message to `<outbox>/<name>.eml`, plus an `.html` copy to open in a browser."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, envelope: Envelope) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.folder / f"{envelope.name}.eml", envelope.data)
        html = html_part(envelope.data)
        if html is not None:
            _write_atomically(self.folder / f"{envelope.name}.html", html.encode("utf-8"))

    def close(self) -> None:
        pass


def html_part(data: bytes) -> str | None:
    """The text/html part of a message, decoded, if it has one."""
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    return str(part.get_content()) if part is not None else None


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def _canonical_data(smtp: smtplib.SMTP, msg: bytes) -> tuple[int, bytes]:
    """smtplib's DATA for a message in canonical CRLF form, as every Envelope holds.

    smtplib runs two regular expressions over every message (line ends, then dot-stuffing):
    half a millisecond for a 110 KB digest. Canonical bytes need no line-end fixing, and the
    dots are stuffed with one `bytes.replace`.
    """
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    if msg.startswith(b"."):
        smtp.send(b".")
    stuffed = msg.replace(b"\r\n.", b"\r\n..")
    smtp.send(stuffed)
    smtp.send(b".\r\n" if stuffed.endswith(b"\r\n") else b"\r\n.\r\n")
    return smtp.getreply()


class _SMTP(smtplib.SMTP):
    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        return _canonical_data(self, msg) if isinstance(msg, bytes) else super().data(msg)


class _SMTP_SSL(smtplib.SMTP_SSL):
    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        return _canonical_data(self, msg) if isinstance(msg, bytes) else super().data(msg)


class SmtpMailer:
    """SMTP with STARTTLS, implicit TLS or none, optional AUTH; one connection for many sends."""

    IDLE_CHECK_SECONDS = 5.0  # a connection idle longer is checked (NOOP) before reuse

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connection: smtplib.SMTP | None = None
        self._last_used = 0.0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def send(self, envelope: Envelope) -> None:
        """Send one message; DeliveryError is permanent only when the server refused it (5xx)."""
        connection = self._connect()
        try:
            connection.sendmail(envelope.sender, [envelope.recipient], envelope.data)
            self._last_used = time.monotonic()
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise self._refusal(code, reply) from exc
        except smtplib.SMTPResponseException as exc:
            raise self._refusal(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # a timeout or a hang-up mid-conversation: the session state is unknown
            self._drop()
            raise DeliveryError(f"connection problem: {exc}", permanent=False) from exc

    def _refusal(self, code: int, reply: bytes | str) -> DeliveryError:
        said = f"{code} {_text(reply)}"
        if code == 530:
            # "authentication required" is about our setup, not about this recipient
            fix = "set SMTP_USER and SMTP_PASSWORD (and SMTP_TLS=starttls if it asks for TLS)"
            return DeliveryError(f"{said}: the server wants a login first; {fix}", permanent=False)
        if code >= 500:
            return DeliveryError(said, permanent=True)
        self._drop()  # after a 4xx (421: the server hangs up) start afresh next time
        return DeliveryError(said, permanent=False)

    def _connect(self) -> smtplib.SMTP:
        """The open connection, or a new one; failures to set one up are never permanent."""
        # smtplib drops the socket itself when the server hangs up (say after a 5xx)
        connection = self._connection
        if connection is not None and connection.sock is not None and not self._gone_stale():
            return connection
        self._connection = None
        try:
            self._connection = self._open()
        except smtplib.SMTPAuthenticationError as exc:
            message = f"SMTP login refused ({exc.smtp_code}); check SMTP_USER and SMTP_PASSWORD."
            raise DeliveryError(message, permanent=False) from exc
        except ssl.SSLCertVerificationError as exc:
            message = (
                f"the SMTP server's TLS certificate is not trusted ({exc}); if it is signed by "
                "your own certificate authority, set SMTP_CA_FILE to that authority's PEM file."
            )
            raise DeliveryError(message, permanent=False) from exc
        except smtplib.SMTPResponseException as exc:
            message = f"SMTP server refused the session: {exc.smtp_code} {_text(exc.smtp_error)}"
            raise DeliveryError(message, permanent=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"connection problem: {exc}", permanent=False) from exc
        return self._connection

    def _gone_stale(self) -> bool:
        """Servers close idle sessions (say during a rate-limit pause): check before reuse."""
        if self._connection is None or time.monotonic() - self._last_used < self.IDLE_CHECK_SECONDS:
            return False
        try:
            alive = self._connection.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            alive = False
        if not alive:
            self._drop()
        return not alive

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = None
        if s.smtp_tls != "none":
            context = ssl.create_default_context(cafile=s.smtp_ca_file or None)
        connection: smtplib.SMTP
        if s.smtp_tls == "ssl":
            connection = _SMTP_SSL(s.smtp_host, s.port, timeout=s.smtp_timeout, context=context)
        else:
            connection = _SMTP(s.smtp_host, s.port, timeout=s.smtp_timeout)
        try:
            if s.smtp_tls == "starttls":
                connection.starttls(context=context)
            if s.smtp_user:
                connection.login(s.smtp_user, s.smtp_password)
        except BaseException:
            connection.close()  # a half-set-up session is of no use: don't leak its socket
            raise
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self._connection = None


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when SMTP_HOST is set, else the outbox folder."""
    if settings.smtp_host:
        return SmtpMailer(settings)
    return OutboxMailer(settings.outbox)
