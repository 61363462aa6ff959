import itertools
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.clustering import group_articles
from digest.models import Article

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def make(
    title: str,
    source: str,
    hours: float = 0,
    topics: tuple[str, ...] = (),
    standfirst: str = "",
    text: str = "",
) -> Article:
    key = f"{source}-{title}"[:60]
    return Article(
        guid=key,
        url=f"https://{source.lower().replace(' ', '')}.example.com/{'-'.join(title.split())}",
        title=title,
        text=text or title,  # headline-only items repeat the headline as their text
        source=source,
        published=START + timedelta(hours=hours),
        topics=topics,
        standfirst=standfirst,
        id=key,
    )


BRIDGE = [
    make("Cargo ship hits Port Alder harbour bridge", "Alder News"),
    make("Port Alder harbour bridge closed after ship strike", "Coast Radio", 2),
    make("Ship collision shuts harbour bridge in Port Alder", "Gull Point Gazette", 5),
]
SCHOOL = [
    make("Brenn Valley school closed after heating failure", "Farm Weekly", 1),
    make("Heating failure closes Brenn Valley school for a week", "Valley Voice", 3),
]
FAIR = make("Cheese fair in Moss Hollow draws record crowds", "Farm Weekly", 4)


def titles(groups: list[list[Article]]) -> list[list[str]]:
    return [[article.title for article in group] for group in groups]


def test_same_event_from_several_outlets_is_one_story() -> None:
    groups = group_articles([*BRIDGE, FAIR])

    assert sorted(len(group) for group in groups) == [1, 3]
    (bridge,) = [group for group in groups if len(group) == 3]
    assert {a.source for a in bridge} == {"Alder News", "Coast Radio", "Gull Point Gazette"}


def test_events_sharing_common_words_stay_apart() -> None:
    """Both stories say "closed" and "after"; one is a bridge, the other a school."""
    groups = group_articles([*SCHOOL, *BRIDGE, FAIR])

    assert sorted(sorted(group) for group in titles(groups)) == sorted(
        [sorted(a.title for a in BRIDGE), sorted(a.title for a in SCHOOL), [FAIR.title]]
    )


def test_a_single_shared_word_is_not_enough() -> None:
    """Two headlines that only both name Alderton are two stories, not one."""
    ferry = make("Ferry timetable changes in Alderton", "Coast Radio", 1)
    festival = make("Alderton festival tickets sell out", "Alder News", 3)
    again = make("Festival tickets for Alderton sell out in an hour", "Valley Voice", 4)

    assert len(group_articles([ferry, festival])) == 2
    assert titles(group_articles([ferry, festival, again])) == [
        [ferry.title],
        [festival.title, again.title],
    ]


def test_full_articles_group_by_headline_and_lead() -> None:
    first = make(
        "Wildfire forces evacuation of Kestrel Ridge",
        "Alder News",
        standfirst="Residents of Kestrel Ridge were moved to the Ashby sports hall overnight "
        "as a wildfire spread down the eastern slopes.",
        text="Fire crews from three counties worked through the night.\n\nMore later.",
    )
    second = make(
        "Kestrel Ridge residents evacuated as wildfire spreads",
        "Coast Radio",
        3,
        text="A wildfire on the eastern slopes of Kestrel Ridge forced hundreds of people "
        "from their homes overnight; many slept in the Ashby sports hall.\n\nThe cause "
        "of the fire is not yet known.",
    )
    other = make(
        "Ashby sports hall reopens after roof repairs",
        "Valley Voice",
        5,
        standfirst="The hall closed in June when a storm damaged its roof.",
        text="Swimming lessons resume on Monday.",
    )

    groups = group_articles([other, second, first])

    assert sorted(len(group) for group in groups) == [1, 2]
    assert [other] in groups


def test_grouping_is_deterministic_whatever_the_input_order() -> None:
    articles = [*BRIDGE, *SCHOOL, FAIR]
    expected = titles(group_articles(articles))

    for permutation in itertools.islice(itertools.permutations(articles), 0, 720, 37):
        assert titles(group_articles(list(permutation))) == expected


def test_grouping_does_not_depend_on_string_hashing() -> None:
    """Set and dict order of strings changes with PYTHONHASHSEED; the groups must not."""
    script = (
        "from tests.test_clustering import BRIDGE, SCHOOL, FAIR, titles;"
        "from digest.clustering import group_articles;"
        "print(titles(group_articles([*SCHOOL, FAIR, *BRIDGE])))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=Path(__file__).parent.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }

    assert len(outputs) == 1


def test_same_words_far_apart_in_time_stay_separate() -> None:
    early = make("Cargo ship hits Port Alder harbour bridge", "Alder News")
    late = make("Cargo ship hits Port Alder harbour bridge", "Coast Radio", 24 * 30)
    soon = make("Cargo ship hits Port Alder harbour bridge", "Gull Point Gazette", 24 * 3)

    assert len(group_articles([early, late])) == 2
    assert len(group_articles([early, soon])) == 1


def test_a_story_runs_on_while_its_coverage_never_pauses_for_a_week() -> None:
    days = [0, 5, 10, 15]
    follow_ups = [
        make(f"Port Alder harbour bridge repairs, day {day}", f"Outlet {day}", 24 * day)
        for day in days
    ]

    assert len(group_articles(follow_ups)) == 1
    assert len(group_articles([follow_ups[0], follow_ups[2]])) == 2  # ten days apart


def test_disjoint_topics_never_join_but_untagged_articles_may() -> None:
    coast = make("Cargo ship hits Port Alder harbour bridge", "Alder News", topics=("coast",))
    farm = make("Cargo ship hits Port Alder harbour bridge", "Farm Weekly", 1, ("farming",))
    both = make(
        "Cargo ship hits Port Alder harbour bridge", "Valley Voice", 2, ("coast", "farming")
    )
    untagged = make("Cargo ship hits Port Alder harbour bridge", "Coast Radio", 3)

    assert len(group_articles([coast, farm])) == 2
    assert len(group_articles([coast, untagged])) == 1
    for group in group_articles([coast, farm, both, untagged]):
        assert not ({coast, farm} <= set(group))


def test_empty_input_gives_no_groups() -> None:
    assert group_articles([]) == []


def test_articles_without_words_stand_alone() -> None:
    blank = make("", "Alder News")
    numbers = make("2 4", "Coast Radio", 1)

    assert len(group_articles([blank, numbers, *BRIDGE])) == 3


def test_every_article_is_in_exactly_one_group() -> None:
    rng = random.Random(5)
    places = ["Port Alder", "Moss Hollow", "Kestrel Ridge", "Gull Point", "Brenn Valley"]
    things = ["bridge", "school", "ferry", "market", "library", "harbour", "museum"]
    happenings = ["closes", "reopens", "floods", "wins award", "gets funding", "is sold"]
    articles = [
        make(
            f"{rng.choice(places)} {rng.choice(things)} {rng.choice(happenings)}",
            f"Outlet {number}",
            rng.uniform(0, 200),
        )
        for number in range(120)
    ]

    groups = group_articles(articles)

    assert sorted(a.id for group in groups for a in group) == sorted(a.id for a in articles)
    assert all(group for group in groups)
