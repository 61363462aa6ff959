"""The newsletter's look and sender identity, from settings: what every edition shares."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from digest.config import Settings


@dataclass(frozen=True)
class Theme:
    name: str
    language: str
    subject_pattern: str
    accent_color: str
    header_color: str
    background_color: str
    logo_url: str
    postal_address: str
    base_url: str
    mail_from: str
    unsubscribe_mailto: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Theme:
        s = settings
        return cls(
            name=s.newsletter_name, language=s.language, subject_pattern=s.subject_pattern,
            accent_color=s.accent_color, header_color=s.header_color,
            background_color=s.background_color, logo_url=s.logo_url,
            postal_address=s.postal_address, base_url=s.base_url.rstrip("/"),
            mail_from=s.mail_from, unsubscribe_mailto=s.unsubscribe_mailto,
        )  # fmt: skip

    @property
    def sender_name(self) -> str:
        return parseaddr(self.mail_from)[0] or self.name

    @property
    def sender_address(self) -> str:
        return parseaddr(self.mail_from)[1]
