"""Editions to digests and ready-to-send messages, each variant's layout built only once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid

import jinja2

from digest.compose.layout import CompiledDigest, RenderedDigest, compile_digest
from digest.compose.mime import MessageTemplate, message_template
from digest.compose.personal import Personal
from digest.compose.theme import Theme
from digest.links import signed_tokens
from digest.models import Edition, Envelope, Subscriber

LINK_PURPOSES = ("unsubscribe", "manage", "view")
VARIANTS_KEPT = 64  # layouts kept in memory; a variant is a few hundred KB at most


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain)


@dataclass(frozen=True)
class Variant:
    compiled: CompiledDigest
    message: MessageTemplate


@dataclass(frozen=True)
class Composer:
    """Turns editions into digests and messages; holds what every message shares.

    Subscribers whose editions hold the same sections, in the same zone and format, share
    one variant: its Jinja2 + MJML + CSS work is done once; each of them only adds their
    name, address and signed links.
    """

    theme: Theme
    env: jinja2.Environment
    secret: str
    labels: Mapping[str, str] = field(default_factory=dict)
    make_message_id: Callable[[str], str] = field(default=new_message_id)
    link_days: int = 180  # how long the signed links in a digest stay valid
    sign: Callable[[bytes], bytes] | None = None  # DKIM, when configured: signs last
    _variants: OrderedDict[Hashable, Variant] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )

    def personal(self, subscriber: Subscriber, edition: str, issued: datetime) -> Personal:
        base, expires = self.theme.base_url, issued + timedelta(days=self.link_days)
        token = signed_tokens(self.secret, subscriber.email, LINK_PURPOSES, expires)
        return Personal(
            name=subscriber.name,
            email=subscriber.email,
            unsubscribe=f"{base}/unsubscribe/{token['unsubscribe']}",
            manage=f"{base}/manage/{token['manage']}",
            view_online=f"{base}/archive/{edition}/{token['view']}",
        )

    def render(self, edition: Edition) -> RenderedDigest:
        """Subject, preheader, HTML and text exactly as this subscriber will get them."""
        personal = self.personal(edition.subscriber, edition.id, edition.created_at)
        return self.variant(edition).compiled.personalise(personal)

    def envelope(self, edition: Edition) -> Envelope:
        subscriber = edition.subscriber
        message_id = self.make_message_id(self.theme.sender_address.rpartition("@")[2])
        personal = self.personal(subscriber, edition.id, edition.created_at)
        data = self.variant(edition).message.message(personal, message_id, edition.created_at)
        return Envelope(
            sender=self.theme.sender_address,
            recipient=subscriber.email,
            message_id=message_id,
            data=self.sign(data) if self.sign else data,
            name=outbox_name(edition.id, subscriber.email),
        )

    def variant(self, edition: Edition) -> Variant:
        """The shared layout for this edition's variant, built on first use."""
        subscriber = edition.subscriber
        key = (
            edition.id, edition.sections, subscriber.timezone, subscriber.format,
            subscriber.topics,
        )  # fmt: skip
        found = self._variants.get(key)
        if found is not None:
            self._variants.move_to_end(key)
            return found
        compiled = compile_digest(edition, self.theme, self.labels, self.env)
        made = Variant(compiled, message_template(compiled, self.theme))
        self._variants[key] = made
        if len(self._variants) > VARIANTS_KEPT:
            self._variants.popitem(last=False)
        return made


def outbox_name(edition: str, email: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in email.lower())
    return f"{edition}-{safe}"
