"""Signed links for subscribers (unsubscribe, manage topics, view online): no login needed.

A token is `<subscriber key>.<expiry>.<signature>`. The subscriber key is an HMAC of the
address, so a token never shows the address and cannot be made from it without the secret;
the signature binds key, purpose and expiry; checks compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

BASE = 36


class TokenProblem(StrEnum):
    FORGED = "forged"  # malformed, or signed with another secret or for another purpose
    EXPIRED = "expired"


@dataclass(frozen=True)
class TokenCheck:
    key: str = ""  # the subscriber key when valid
    problem: TokenProblem | None = None


def subscriber_key(secret: str, email: str) -> str:
    """An opaque, stable id for a subscriber: nobody without the secret can compute it."""
    digest = hmac.new(secret.encode(), f"subscriber:{email.lower()}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def signed_token(secret: str, email: str, purpose: str, expires: datetime) -> str:
    return signed_tokens(secret, email, (purpose,), expires)[purpose]


def signed_tokens(
    secret: str, email: str, purposes: tuple[str, ...], expires: datetime
) -> dict[str, str]:
    """One token per purpose for one subscriber and expiry (the key is worked out once)."""
    key = subscriber_key(secret, email)
    stamp = _base36(int(expires.timestamp()))
    return {p: f"{key}.{stamp}.{_signature(secret, key, p, stamp)}" for p in purposes}


def check_token(secret: str, token: str, purpose: str, now: datetime) -> TokenCheck:
    """The subscriber key a token names, or what is wrong with it."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return TokenCheck(problem=TokenProblem.FORGED)
    key, stamp, signature = parts
    if not hmac.compare_digest(signature, _signature(secret, key, purpose, stamp)):
        return TokenCheck(problem=TokenProblem.FORGED)
    if datetime.fromtimestamp(int(stamp, BASE), UTC) < now:
        return TokenCheck(key, TokenProblem.EXPIRED)
    return TokenCheck(key)


def _signature(secret: str, key: str, purpose: str, stamp: str) -> str:
    message = f"{purpose}:{key}:{stamp}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, BASE)
        text = digits[rest] + text
        if not number:
            return text
