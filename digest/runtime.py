"""Everything a command needs, loaded and validated once: settings, config files, store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from digest.compose import Composer, Theme, template_environment
from digest.config import Settings
from digest.dispatch import Clock, SendContext
from digest.dkim import signer_from_settings
from digest.models import Subscriber
from digest.sourcelist import SourceList, load_sources
from digest.store import Store
from digest.subscribers import load_subscribers


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sources: SourceList
    subscribers: tuple[Subscriber, ...]
    store: Store
    clock: Clock

    @cached_property
    def send_context(self) -> SendContext:
        """Composer and labels, made once: the template cache lives as long as the runtime."""
        secret = self.settings.secret or self.store.secret()
        labels = {topic.name: topic.label for topic in self.sources.topics}
        env = template_environment(self.settings.templates_dir)
        signer = signer_from_settings(self.settings)
        composer = Composer(
            Theme.from_settings(self.settings), env, secret, labels,
            sign=signer.sign if signer else None,
        )  # fmt: skip
        return SendContext(self.settings, self.store, composer, labels, self.clock)

    def close(self) -> None:
        self.store.close()


def open_runtime(settings: Settings, clock: Clock = utc_now) -> Runtime:
    """Load and check the sources and subscribers files, then open the database."""
    sources = load_sources(settings.sources_file)
    subscribers = load_subscribers(settings.subscribers_file, sources.topic_names)
    return Runtime(settings, sources, subscribers, Store(settings.database), clock)
