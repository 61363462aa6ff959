"""What the web app works from: the runtime (reloaded when config files change), the
subscriber each link key names, and a composer that notices template edits."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from digest.compose import Composer
from digest.errors import ConfigError
from digest.links import subscriber_key
from digest.models import Subscriber
from digest.runtime import Runtime, with_choices
from digest.sourcelist import load_sources
from digest.subscribers import load_subscribers

log = logging.getLogger("digest.web")


class WebState:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.secret = runtime.settings.secret or runtime.store.secret()
        self._config_stamp = self._stamp(self._config_files())
        self._template_stamp = self._templates_stamp()
        self._composer = runtime.send_context.composer
        self._by_key = self._keys()

    def subscriber(self, key: str) -> Subscriber | None:
        self.refresh()
        return self._by_key.get(key)

    def key_of(self, subscriber: Subscriber) -> str:
        return subscriber_key(self.secret, subscriber.email)

    def composer(self) -> Composer:
        """The composer, afresh when a template changed: previews show edits at once."""
        stamp = self._templates_stamp()
        if stamp != self._template_stamp:
            self._template_stamp = stamp
            self._composer = replace(self.runtime.send_context.composer)
        return self._composer

    def refresh(self) -> None:
        """Reload subscribers and sources when their files changed (a broken change is
        logged and the last good configuration stays), and the web choices with them."""
        stamp = self._stamp(self._config_files())
        if stamp == self._config_stamp:
            return
        self._config_stamp = stamp
        settings = self.runtime.settings
        try:
            sources = load_sources(settings.sources_file)
            subscribers = load_subscribers(settings.subscribers_file, sources.topic_names)
        except ConfigError as error:
            log.error("configuration not reloaded: %s; keeping the last good one", error)
            return
        self.update(replace(self.runtime, sources=sources, subscribers=subscribers))

    def update(self, runtime: Runtime) -> None:
        """Take `runtime`, with the topics subscribers chose on the web applied."""
        chosen = with_choices(runtime.subscribers, runtime.store, runtime.sources)
        self.runtime = replace(runtime, subscribers=chosen)
        self._composer = self.runtime.send_context.composer
        self._by_key = self._keys()

    def _keys(self) -> dict[str, Subscriber]:
        return {self.key_of(s): s for s in self.runtime.subscribers}

    def _config_files(self) -> list[Path]:
        settings = self.runtime.settings
        return [settings.subscribers_file, settings.sources_file]

    def _templates_stamp(self) -> tuple[tuple[str, int], ...]:
        folder = self.runtime.settings.templates_dir
        return tuple((str(p), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*.j2")))

    @staticmethod
    def _stamp(paths: list[Path]) -> tuple[int, ...]:
        return tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in paths)
