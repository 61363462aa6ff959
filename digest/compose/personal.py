"""What differs between subscribers who share a layout: placeholders first, values later.

The shared layout (Jinja2, MJML, CSS inlining) is built once with marker strings where a
subscriber's name, address and signed links go; `split_slots` cuts the result into literal
pieces and slots, and `SlotTemplate.fill` puts one subscriber's escaped values in.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, fields

from digest.errors import TemplateError


@dataclass(frozen=True)
class Personal:
    """One subscriber's values, in slot order: the only per-subscriber part of a digest."""

    name: str
    email: str
    unsubscribe: str
    manage: str
    view_online: str

    def values(self) -> tuple[str, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


SLOT_NAMES = tuple(f.name for f in fields(Personal))


@dataclass(frozen=True)
class Placeholders:
    """Markers no article can contain (a fresh random nonce) that survive MJML and CSS."""

    nonce: str

    @classmethod
    def fresh(cls) -> Placeholders:
        return cls(secrets.token_hex(8))

    def marker(self, name: str) -> str:
        return f"%%{self.nonce}.{SLOT_NAMES.index(name)}%%"

    def markers(self) -> Personal:
        return Personal(*(self.marker(name) for name in SLOT_NAMES))


@dataclass(frozen=True)
class SlotTemplate:
    """Literal text with numbered slots: `pieces` holds strings and slot numbers."""

    pieces: tuple[str | int, ...]

    def fill(self, values: Sequence[str]) -> str:
        return "".join(p if isinstance(p, str) else values[p] for p in self.pieces)


def split_slots(rendered: str, placeholders: Placeholders, template: str) -> SlotTemplate:
    """Cut rendered output at its markers; a marker a filter changed is a template error."""
    parts = re.split(rf"%%{placeholders.nonce}\.(\d)%%", rendered)
    pieces: list[str | int] = []
    for index, part in enumerate(parts):
        if index % 2:
            pieces.append(int(part))
        elif part:
            pieces.append(part)
    trace = placeholders.nonce[:8]
    if any(isinstance(p, str) and trace in p.lower() for p in pieces):
        personal = ", ".join(f"`{name}`" for name in SLOT_NAMES)
        raise TemplateError(
            f"{template}: a filter changed a personal value ({personal}); "
            "print subscriber.name, subscriber.email and links.* as they are."
        )
    return SlotTemplate(tuple(pieces))
