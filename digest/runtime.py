"""Everything a command needs, loaded and validated once: settings, config files, store."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
            sign=signer.sign if signer else None, link_days=self.settings.link_days,
        )  # fmt: skip
        return SendContext(self.settings, self.store, composer, labels, self.clock)

    def close(self) -> None:
        self.store.close()


def open_runtime(settings: Settings, clock: Clock = utc_now) -> Runtime:
    """Load and check the sources and subscribers files, then open the database."""
    sources = load_sources(settings.sources_file)
    store = Store(settings.database)
    subscribers = load_subscribers(settings.subscribers_file, sources.topic_names)
    return Runtime(settings, sources, with_choices(subscribers, store, sources), store, clock)


def with_choices(
    subscribers: tuple[Subscriber, ...], store: Store, sources: SourceList
) -> tuple[Subscriber, ...]:
    """Subscribers with the topics they chose on the web (still configured ones only)."""
    choices = store.topic_choices()
    chosen = []
    for subscriber in subscribers:
        topics = choices.get(subscriber.email.lower())
        if topics is not None:
            kept = tuple(t for t in topics if t in sources.topic_names)
            subscriber = replace(subscriber, topics=kept or subscriber.topics)
        chosen.append(subscriber)
    return tuple(chosen)
