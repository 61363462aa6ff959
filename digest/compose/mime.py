"""Message bytes in canonical form (CRLF, lines of at most 78 octets), built fast.

What every recipient of a variant shares (headers, both body parts) is encoded once, as
quoted-printable pieces that each end on a line break; a subscriber's message joins those
pieces with their own few encoded values. Building it costs microseconds, where a fresh
`EmailMessage` per subscriber costs milliseconds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import Header
from email.quoprimime import body_encode
from email.utils import format_datetime

from digest.compose.layout import CompiledDigest, html_values, text_values
from digest.compose.personal import SLOT_NAMES, Personal, SlotTemplate
from digest.compose.theme import Theme
from digest.compose.view import one_line

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
MAX_NAME = 100  # characters of a display name kept in a header
_PLAIN_NAME = re.compile(r"[A-Za-z0-9 '_-]*")
_LABEL = re.compile(r"[^a-z0-9]+")

Chunk = bytes | int  # encoded text, or the number of a slot for a subscriber's value


def qp_encode(text: str) -> bytes:
    """UTF-8 quoted-printable with CRLF line ends, no line over 76 octets."""
    latin = text.encode("utf-8").decode("latin-1")  # body_encode works on octets
    return body_encode(latin, maxlinelen=76, eol="\r\n").encode("ascii")


def qp_piece(text: str) -> bytes:
    """Encoded so that whatever is joined after it starts on a fresh line."""
    encoded = qp_encode(text)
    return encoded if not encoded or encoded.endswith(CRLF) else encoded + SOFT_BREAK


def header(name: str, value: str) -> bytes:
    """One folded header line; non-ASCII becomes RFC 2047 words; CR/LF cannot get in."""
    return policy.SMTP.fold_binary(name, one_line(value))


def ascii_header(name: str, value: str) -> bytes:
    """An ASCII value (an id, a URL, a content type) folded at spaces to 78 octets a line.

    A word too long for any line (a long URL) stays whole: lines up to 998 octets are legal.
    """
    value = one_line(value)
    if not value.isascii() or len(value) > 900:
        return header(name, value)
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > 78 and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def address_header(name: str, display_name: str, address: str) -> bytes:
    """`To: "Name" <address>` (RFC 2047 for non-ASCII names), fast for the usual names."""
    display = one_line(display_name)[:MAX_NAME]
    if display.isascii():
        quoted = display.replace("\\", "\\\\").replace('"', '\\"')
        phrase = display if _PLAIN_NAME.fullmatch(display) else f'"{quoted}"'
    else:
        phrase = Header(display, "utf-8", header_name=name).encode(linesep="\r\n")
    line = f"{name}: {phrase} <{address}>\r\n" if phrase else f"{name}: {address}\r\n"
    return line.encode("ascii")


def list_id(theme: Theme) -> str:
    label = _LABEL.sub("-", theme.name.lower()).strip("-") or "digest"
    domain = theme.sender_address.rpartition("@")[2] or "localhost"
    return f"{one_line(theme.name)} <{label}.{domain}>"


@dataclass(frozen=True)
class MessageTemplate:
    """Everything of one variant's message but the recipient's headers and values."""

    head: bytes
    body: tuple[Chunk, ...]
    unsubscribe_mailto: str = ""

    def message(self, personal: Personal, message_id: str, date: datetime) -> bytes:
        values = personal.values()
        encoded = [qp_piece(v) for v in text_values(values)]
        encoded += [qp_piece(v) for v in html_values(values)]
        personal_head = (
            address_header("To", personal.name, personal.email)
            + ascii_header("Date", format_datetime(date))
            + ascii_header("Message-ID", message_id)
            + ascii_header("List-Unsubscribe", self._unsubscribe(personal.unsubscribe))
        )
        body = b"".join(c if isinstance(c, bytes) else encoded[c] for c in self.body)
        return personal_head + self.head + CRLF + body

    def _unsubscribe(self, url: str) -> str:
        """The https link (RFC 8058 one-click), then mailto when configured, same token."""
        if not self.unsubscribe_mailto:
            return f"<{url}>"
        token = url.rsplit("/", 1)[-1]
        return f"<{url}>, <mailto:{self.unsubscribe_mailto}?subject=unsubscribe%20{token}>"


def message_template(compiled: CompiledDigest, theme: Theme) -> MessageTemplate:
    """Encode the shared headers and both parts of `compiled` once."""
    head = (
        address_header("From", theme.sender_name, theme.sender_address)
        + header("Subject", compiled.subject)
        + b"MIME-Version: 1.0\r\n"
        + header("List-Id", list_id(theme))
        + b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    )
    text = _encoded(compiled.text, 0)
    if compiled.html is None:
        return MessageTemplate(head + _part_headers("plain"), text, theme.unsubscribe_mailto)
    html = _encoded(compiled.html, len(SLOT_NAMES))
    boundary = _boundary(text, html)
    delimiter = f"--{boundary}\r\n".encode()
    body = (
        b"This is a multi-part message in MIME format.\r\n\r\n", delimiter,
        _part_headers("plain") + CRLF, *text, CRLF + delimiter,
        _part_headers("html") + CRLF, *html, f"\r\n--{boundary}--\r\n".encode(),
    )  # fmt: skip
    content_type = ascii_header("Content-Type", f'multipart/alternative; boundary="{boundary}"')
    return MessageTemplate(head + content_type, tuple(body), theme.unsubscribe_mailto)


def _part_headers(subtype: str) -> bytes:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
    ).encode()


def _encoded(template: SlotTemplate, first_slot: int) -> tuple[Chunk, ...]:
    """Literal pieces quoted-printable encoded; slots renumbered from `first_slot`."""
    chunks: list[Chunk] = [
        qp_piece(p) if isinstance(p, str) else p + first_slot for p in template.pieces
    ]
    last = chunks[-1] if chunks else b""
    if isinstance(last, bytes) and last.endswith(SOFT_BREAK):
        chunks[-1] = last[: -len(SOFT_BREAK)]
    return tuple(chunks)


def _boundary(*parts: Sequence[Chunk]) -> str:
    """Stable for the same content; `=_` can never occur in quoted-printable text."""
    digest = hashlib.sha256()
    for chunk in (c for part in parts for c in part):
        digest.update(chunk if isinstance(chunk, bytes) else str(chunk).encode())
    return f"=_digest_{digest.hexdigest()[:24]}"
