"""A large edition of our own for size, speed and layout checks (also used by bench/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digest.models import Article, Edition, RelatedLink, Section, Story, Subscriber

TOPICS = ("world", "business", "science", "technology", "culture")
SUMMARY = (
    "Councillors in the harbour town voted by a narrow margin to fund a new ferry link "
    "to the outer islands, after a two-year campaign by residents who say the present "
    "service leaves them stranded in winter. The first crossings are planned for spring, "
    "and the operator says fares will be capped for islanders during the first three years."
)


def article(topic: str, number: int, outlet: str, when: datetime) -> Article:
    slug = f"{topic}-{number}-{outlet.lower().replace(' ', '-')}"
    return Article(
        guid=slug, url=f"https://{outlet.lower().replace(' ', '')}.example.com/2026/{slug}",
        title=f"Harbour Council Backs Island Ferry Link in Close Vote, Story {number} of {topic}",
        text=SUMMARY, source=outlet, published=when, topics=(topic,), id=slug,
    )  # fmt: skip


def story(topic: str, number: int, now: datetime) -> Story:
    when = now - timedelta(hours=number)
    lead = article(topic, number, "Harbour Gazette", when)
    also = (article(topic, number, "Civic Wire", when), article(topic, number, "Tidewater", when))
    related = tuple(
        RelatedLink(f"Earlier: Ferry Operator Names Its Island Timetable, Part {n}",
                    f"https://harbourgazette.example.com/earlier/{topic}-{number}-{n}",
                    "earlier", "Harbour Gazette")
        for n in range(3)
    )  # fmt: skip
    return Story(topic, lead, SUMMARY, also, related)


def large_edition(subscriber: Subscriber, stories: int = 30) -> Edition:
    """`stories` stories over five topics, each with two other outlets and three links."""
    now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    sections = [
        Section(topic, topic.title(), tuple(story(topic, n, now) for n in range(i, stories, 5)))
        for i, topic in enumerate(TOPICS)
    ]
    return Edition("2026-11-26", subscriber, tuple(s for s in sections if s.stories), now)


def reader(number: int, topics: tuple[str, ...] = TOPICS) -> Subscriber:
    return Subscriber(
        f"reader{number}@example.com", f"Reader Number {number}", topics, "Europe/London"
    )
