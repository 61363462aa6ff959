"""Real servers on 127.0.0.1 for tests: an SMTP sink (aiosmtpd) and a static HTTP server."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, syntax

Step = Literal["RCPT", "DATA"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingHandler:
    """Accepts mail, or misbehaves for chosen recipients as a test asks.

    `refuse_rcpt` / `refuse_data`: address -> the reply ("550 ...") to give at that step;
    a reply whose code is in `closing_codes` also closes the connection, as RFC 5321 says
    a 421 does. `drop`: address -> where to hang up without a reply: at "RCPT", or at
    "DATA" after the first line of the message. `stall`: address -> where never to
    answer: at "RCPT", or at "DATA" after the whole message.
    """

    received: list[Received] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> "550 ..." reply
    refuse_data: dict[str, str] = field(default_factory=dict)  # address -> "451 ..." reply
    closing_codes: tuple[str, ...] = ("421",)
    drop: dict[str, Step] = field(default_factory=dict)
    stall: dict[str, Step] = field(default_factory=dict)
    connections: int = 0  # counted by the server: connections accepted

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await self._misbehave(server, [address], "RCPT")
        if address in self.refuse_rcpt:
            return self._refuse(server, self.refuse_rcpt[address])
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        await self._misbehave(server, envelope.rcpt_tos, "DATA")
        for address in envelope.rcpt_tos:
            if address in self.refuse_data:
                return self._refuse(server, self.refuse_data[address])
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted"

    def drops_mid_data(self, addresses: list[str]) -> bool:
        return any(self.drop.get(address) == "DATA" for address in addresses)

    async def _misbehave(self, server: SMTP, addresses: list[str], step: Step) -> None:
        if any(self.stall.get(address) == step for address in addresses):
            await _hang()
        if step == "RCPT" and any(self.drop.get(address) == step for address in addresses):
            _transport(server).close()
            await _hang()

    def _refuse(self, server: SMTP, reply: str) -> str:
        if reply.startswith(self.closing_codes):
            # after the reply is written: closing now would discard it
            asyncio.get_running_loop().call_soon(_transport(server).close)
        return reply


def _transport(server: SMTP) -> asyncio.BaseTransport:
    assert server.transport is not None, "the session has ended"
    return server.transport


async def _hang() -> None:
    """Wait until aiosmtpd cancels the session (the client hung up, or the server stops)."""
    await asyncio.sleep(3600)


class _TestSMTP(SMTP):
    """aiosmtpd's SMTP session, able to hang up part-way through a message."""

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        handler: RecordingHandler = self.event_handler
        if self.envelope is None or not handler.drops_mid_data(self.envelope.rcpt_tos):
            await super().smtp_DATA(arg)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        await self._reader.readuntil(b"\r\n")  # the message's first line, then hang up
        _transport(self).close()


class _TestController(Controller):
    """A Controller whose sessions are _TestSMTP, counting the connections they serve."""

    def factory(self) -> SMTP:
        self.handler.connections += 1
        return _TestSMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class SmtpServer:
    handler: RecordingHandler
    port: int

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def connections(self) -> int:
        return self.handler.connections


def password_checker(user: str, password: str) -> Any:
    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == user.encode()
            and data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535

    return authenticate


@contextmanager
def smtp_server(**smtp_options: Any) -> Iterator[SmtpServer]:
    """An aiosmtpd server on a free loopback port; options go to aiosmtpd's Controller.

    Options include `ssl_context` (implicit TLS) and those of aiosmtpd's SMTP class
    (`tls_context`, `require_starttls`, `authenticator`, `auth_required`, ...).
    """
    handler = RecordingHandler()
    port = free_port()
    controller = _TestController(handler, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    handler.connections = 0  # start() makes one connection of its own to check the server
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()


def server_tls_context(cert: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        redirects = getattr(self.server, "redirects", {})
        if self.path in redirects:
            self.send_response(301)
            self.send_header("Location", redirects[self.path])
            self.end_headers()
            return
        super().do_GET()


@contextmanager
def http_server(root: Path, redirects: dict[str, str] | None = None) -> Iterator[str]:
    """Serve `root` on a free loopback port; yields the base URL."""

    def handler(*args: Any) -> _QuietHandler:
        return _QuietHandler(*args, directory=str(root))

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.redirects = redirects or {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
