"""Signed links for subscribers (unsubscribe, manage topics): HMAC tokens, no login needed."""

from __future__ import annotations

import base64
import hashlib
import hmac


def signed_token(secret: str, email: str, purpose: str) -> str:
    """A token naming the subscriber, valid only for `purpose`, unforgeable without `secret`."""
    subject = base64.urlsafe_b64encode(email.lower().encode()).decode().rstrip("=")
    return f"{subject}.{_signature(secret, subject, purpose)}"


def verify_token(secret: str, token: str, purpose: str) -> str | None:
    """The email address a valid token names, or None (compared in constant time)."""
    subject, _, signature = token.partition(".")
    if not subject or not hmac.compare_digest(signature, _signature(secret, subject, purpose)):
        return None
    padded = subject + "=" * (-len(subject) % 4)
    try:
        return base64.urlsafe_b64decode(padded).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _signature(secret: str, subject: str, purpose: str) -> str:
    message = f"{purpose}:{subject}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]
