"""Mailers: one `send` protocol, with SMTP, outbox-folder and in-memory implementations."""

from __future__ import annotations

import os
import smtplib
import ssl
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from digest.config import Settings
from digest.errors import DeliveryError
from digest.models import Envelope


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


class SmtpMailer:
    """SMTP with STARTTLS, implicit TLS or none, optional AUTH; one connection for many sends."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connection: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def send(self, envelope: Envelope) -> None:
        try:
            connection = self._connect()
            connection.sendmail(envelope.sender, [envelope.recipient], envelope.data)
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            message = f"SMTP login refused ({exc.smtp_code}); check SMTP_USER and SMTP_PASSWORD."
            raise DeliveryError(message, permanent=False) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise self._failure(code, reply) from exc
        except smtplib.SMTPResponseException as exc:
            raise self._failure(exc.smtp_code, exc.smtp_error) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise DeliveryError(f"connection problem: {exc}", permanent=False) from exc

    def _failure(self, code: int, reply: bytes | str) -> DeliveryError:
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
        if code >= 500:
            return DeliveryError(f"{code} {text}", permanent=True)
        self._drop()  # after a 4xx the session state is unknown: start afresh next time
        return DeliveryError(f"{code} {text}", permanent=False)

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        s = self.settings
        context = ssl.create_default_context(cafile=s.smtp_ca_file or None)
        connection: smtplib.SMTP
        if s.smtp_tls == "ssl":
            connection = smtplib.SMTP_SSL(
                s.smtp_host, s.port, timeout=s.smtp_timeout, context=context
            )
        else:
            connection = smtplib.SMTP(s.smtp_host, s.port, timeout=s.smtp_timeout)
            if s.smtp_tls == "starttls":
                connection.starttls(context=context)
        if s.smtp_user:
            connection.login(s.smtp_user, s.smtp_password)
        self._connection = connection
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


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when SMTP_HOST is set, else the outbox folder."""
    if settings.smtp_host:
        return SmtpMailer(settings)
    return OutboxMailer(settings.outbox)
