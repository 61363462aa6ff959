"""Pick each subscriber's stories: their topics in their order, then size and recency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from digest.models import Section, Story, Subscriber


@dataclass(frozen=True)
class SelectionLimits:
    stories_per_topic: int = 5
    max_stories: int = 20


def select_sections(
    subscriber: Subscriber,
    stories: Sequence[Story],
    labels: Mapping[str, str],
    limits: SelectionLimits,
) -> tuple[Section, ...]:
    """A section per subscriber topic, in their order; each story in its first matching one."""
    by_topic: dict[str, list[Story]] = {topic: [] for topic in subscriber.topics}
    for story in stories:
        first = next((t for t in subscriber.topics if t in story.topics), None)
        if first is not None:
            by_topic[first].append(replace(story, topic=first))
    sections = []
    budget = limits.max_stories
    for topic in subscriber.topics:
        chosen = sorted(by_topic[topic], key=rank_key)[: min(limits.stories_per_topic, budget)]
        if chosen:
            sections.append(Section(topic, labels.get(topic, topic.title()), tuple(chosen)))
            budget -= len(chosen)
    return tuple(sections)


def rank_key(story: Story) -> tuple[int, float, str]:
    """More sources first, then the most recent, then a stable tie-break."""
    newest = max(a.published for a in story.articles)
    return (-len({a.source for a in story.articles}), -newest.timestamp(), story.id)
