from dataclasses import replace
from datetime import timedelta

from digest.clustering import group_articles
from digest.models import Article, Section, Subscriber
from digest.ranking import SelectionLimits, select_sections
from digest.stories import StoryLimits, build_stories

from .conftest import NOW


def make(
    title: str, source: str, topic: str, hours_ago: float = 1, standfirst: str = "", text: str = ""
) -> Article:
    return Article(
        guid=title,
        url=f"https://{source.lower().replace(' ', '')}.example.com/{len(title)}",
        title=title,
        text=text or f"{title}.",
        source=source,
        published=NOW - timedelta(hours=hours_ago),
        topics=(topic,),
        standfirst=standfirst,
        id=f"{source}-{title}"[:40],
    )


def sections_for(
    subscriber: Subscriber,
    articles: list[Article],
    known: dict[str, Article] | None = None,
    limits: SelectionLimits | None = None,
) -> tuple[Section, ...]:
    stories = build_stories(articles, {a.id for a in articles}, known or {}, StoryLimits())
    return select_sections(subscriber, stories, {"coast": "Coast"}, limits or SelectionLimits())


QUAKE_A = make(
    "Earthquake Shakes Port Alder, Harbour Wall Cracked",
    "Alder News",
    "coast",
    standfirst="A strong earthquake shook Port Alder overnight. The harbour wall cracked.",
)
QUAKE_B = make("Port Alder Earthquake Cracks Harbour Wall Overnight", "Coast Radio", "coast", 3)
FAIR = make("Brenn Valley Cheese Fair Draws Big Crowds", "Farm Weekly", "farming", 2)
PIER = make("New Pier Plans Unveiled for Gull Point", "Alder News", "coast", 5)


def test_same_event_from_two_outlets_is_one_story() -> None:
    groups = group_articles([PIER, QUAKE_B, FAIR, QUAKE_A])

    sizes = sorted(len(g) for g in groups)
    assert sizes == [1, 1, 2]
    (quake,) = [g for g in groups if len(g) == 2]
    assert {a.source for a in quake} == {"Alder News", "Coast Radio"}


def test_grouping_is_deterministic_whatever_the_input_order() -> None:
    first = group_articles([PIER, QUAKE_B, FAIR, QUAKE_A])
    second = group_articles([QUAKE_A, FAIR, QUAKE_B, PIER])

    assert [[a.id for a in g] for g in first] == [[a.id for a in g] for g in second]


def test_same_headline_words_far_apart_in_time_stay_separate() -> None:
    old = make(
        "Port Alder Earthquake Cracks Harbour Wall Overnight", "Coast Radio", "coast", 24 * 30
    )

    assert len(group_articles([QUAKE_A, old])) == 2


def test_sections_follow_the_subscriber_topic_order_and_lead_has_standfirst() -> None:
    subscriber = Subscriber("a@example.com", "A", ("farming", "coast"))

    sections = sections_for(subscriber, [PIER, QUAKE_B, FAIR, QUAKE_A])

    assert [s.topic for s in sections] == ["farming", "coast"]
    assert sections[1].label == "Coast"
    quake = sections[1].stories[0]  # two sources outrank one
    assert quake.lead is QUAKE_A
    assert [a.source for a in quake.also] == ["Coast Radio"]
    assert quake.summary.startswith("A strong earthquake shook Port Alder")


def test_other_topics_never_appear() -> None:
    subscriber = Subscriber("a@example.com", "A", ("farming",))

    sections = sections_for(subscriber, [PIER, QUAKE_B, FAIR, QUAKE_A])

    assert [story.lead.title for s in sections for story in s.stories] == [FAIR.title]


def test_limits_per_topic_and_per_digest() -> None:
    headlines = [
        "Lifeboat Crew Rescues Kayaker Off Seal Rock",
        "Ferry Timetable Changes for Winter Weekends",
        "Beach Cafe Wins National Award for Chowder",
        "Storm Damages Sea Wall at Northern Cove",
        "Sailing Club Elects First Woman Commodore",
        "Fishermen Protest Over New Mooring Charges",
    ]
    many = [make(title, "Alder News", "coast", i) for i, title in enumerate(headlines)]
    subscriber = Subscriber("a@example.com", "A", ("coast", "farming"))

    per_topic = sections_for(subscriber, [*many, FAIR], limits=SelectionLimits(4))
    capped = sections_for(subscriber, [*many, FAIR], limits=SelectionLimits(4, max_stories=4))

    assert [len(s.stories) for s in per_topic] == [4, 1]
    assert next(s.lead.title for s in per_topic[0].stories) == headlines[0]  # newest
    assert [len(s.stories) for s in capped] == [4]


def test_embedded_related_headline_becomes_a_link() -> None:
    with_related = Article(
        guid="r",
        url="https://alder.example.com/r",
        title="Harbour Repairs Begin in Port Alder",
        text="Repairs began.",
        source="Alder News",
        published=NOW,
        topics=("coast",),
        related_headlines=(PIER.title, "Headline We Never Saw"),
        id="r",
    )
    subscriber = Subscriber("a@example.com", "A", ("coast",))

    sections = sections_for(subscriber, [with_related], {PIER.title.casefold(): PIER})

    (link,) = sections[0].stories[0].related
    assert (link.title, link.url, link.kind) == (PIER.title, PIER.url, "related")


def test_earlier_articles_of_the_thread_become_earlier_links() -> None:
    yesterday = make(
        "Port Alder Earthquake Cracks Harbour Wall Overnight", "Coast Radio", "coast", 30
    )
    today = replace(QUAKE_A, published=NOW)

    (story,) = build_stories([yesterday, today], {today.id}, {}, StoryLimits())

    assert story.lead is today and story.also == ()
    assert [(link.kind, link.url) for link in story.related] == [("earlier", yesterday.url)]


def test_thread_of_only_old_articles_is_no_story() -> None:
    assert build_stories([QUAKE_A, QUAKE_B], set(), {}, StoryLimits()) == []


def test_related_links_are_capped_embedded_first() -> None:
    lead = replace(QUAKE_A, published=NOW, related_headlines=(PIER.title,))
    older = [
        replace(QUAKE_B, id=f"old-{n}", url=f"https://radio.example.com/{n}",
                published=NOW - timedelta(hours=10 + n))
        for n in range(4)
    ]  # fmt: skip

    (story,) = build_stories(
        [lead, *older], {lead.id}, {PIER.title.casefold(): PIER}, StoryLimits(related_links=3)
    )

    assert [link.kind for link in story.related] == ["related", "earlier", "earlier"]
    assert story.related[1].url == "https://radio.example.com/0"  # the newest earlier one


def test_stories_are_the_same_for_every_subscriber() -> None:
    articles = [PIER, QUAKE_B, FAIR, QUAKE_A]
    stories = build_stories(articles, {a.id for a in articles}, {}, StoryLimits())
    coast_first = Subscriber("a@example.com", "A", ("coast", "farming"))
    farming_first = Subscriber("b@example.com", "B", ("farming", "coast"))

    ids_a = {
        s.id
        for sec in select_sections(coast_first, stories, {}, SelectionLimits())
        for s in sec.stories
    }
    ids_b = {
        s.id
        for sec in select_sections(farming_first, stories, {}, SelectionLimits())
        for s in sec.stories
    }

    assert ids_a == ids_b == {s.id for s in stories}


def test_an_article_named_as_related_is_never_merged_into_the_story() -> None:
    pier = make("Harbour Board Approves New Pier for Gull Point", "Alder News", "coast", 2)
    lighthouse = replace(
        make("Gull Point Lighthouse Keepers Hand Over to Beacon", "Alder News", "coast", 1),
        related_headlines=(pier.title,),
    )

    stories = build_stories(
        [pier, lighthouse], {pier.id, lighthouse.id}, {pier.title.casefold(): pier}, StoryLimits()
    )

    assert sorted(len(s.articles) for s in stories) == [1, 1]
    (with_link,) = [s for s in stories if s.lead is lighthouse]
    assert [link.url for link in with_link.related] == [pier.url]
