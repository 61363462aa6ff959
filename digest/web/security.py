"""What keeps the web app safe: response headers, admin login, one-time form tokens."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# an email as it is sent: its own inline styles and remote images, nothing that runs
EMAIL_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
FORM_LIFETIME = timedelta(hours=2)


class SecurityHeaders:
    """Every response gets a Content-Security-Policy (unless it set its own) and friends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", PAGE_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


def password_matches(authorization: str, password: str) -> bool:
    """HTTP Basic credentials (any user name) against the admin password, in constant time."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not password:
        return False
    try:
        given = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")[2]
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), password.encode())


@dataclass(frozen=True)
class FormTokens:
    """CSRF tokens for one subscriber's forms: signed, short-lived, spent on first use."""

    secret: str

    def issue(self, purpose: str, key: str, now: datetime) -> str:
        nonce = secrets.token_hex(12)
        stamp = str(int((now + FORM_LIFETIME).timestamp()))
        return f"{nonce}.{stamp}.{self._sign(purpose, key, nonce, stamp)}"

    def check(
        self, token: str, purpose: str, key: str, now: datetime
    ) -> tuple[str, datetime] | None:
        """(nonce, expiry) of a genuine, unexpired token for this form and subscriber."""
        nonce, _, rest = token.partition(".")
        stamp, _, signature = rest.partition(".")
        if not (nonce and stamp.isdigit() and signature):
            return None
        if not hmac.compare_digest(signature, self._sign(purpose, key, nonce, stamp)):
            return None
        expires = datetime.fromtimestamp(int(stamp), UTC)
        return (nonce, expires) if expires >= now else None

    def _sign(self, purpose: str, key: str, nonce: str, stamp: str) -> str:
        message = f"form:{purpose}:{key}:{nonce}:{stamp}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()[:32]
