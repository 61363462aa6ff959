"""Topic assignment from topic descriptions and a few tagged articles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from digest.topics import TopicAssigner, TopicProfile

TOPICS = [
    TopicProfile("cooking", "Recipes, ingredients, baking, restaurants and chefs."),
    TopicProfile("astronomy", "Stars, planets, telescopes, space missions and galaxies."),
    TopicProfile("gardening", "Plants, flowers, soil, vegetables, pruning and garden pests."),
]

TAGGED = [
    (
        "Slow-roasted tomatoes lift a winter soup\n\n"
        "The chef roasts tomatoes with garlic and thyme for three hours, then blends them "
        "with stock. A pinch of sugar balances the acidity; serve with crusty bread.",
        "cooking",
    ),
    (
        "Bakery doubles its sourdough output\n\n"
        "Bakers at the corner shop now start the dough at midnight. The recipe uses rye "
        "flour, salt and a starter kept alive for twelve years. The owner, a chef with a "
        "Michelin star, keeps the oven running until dawn.",
        "cooking",
    ),
    (
        "Kitchen tips: sharper knives, better onions\n\n"
        "Dicing onions goes faster with a sharp knife. Chefs recommend slicing, then "
        "sautéing in butter until golden, and seasoning the pan with pepper and herbs "
        "picked from the garden.",
        "cooking",
    ),
    (
        "Comet brightens in the evening sky\n\n"
        "Observers with small telescopes can spot the comet low in the west after sunset. "
        "Its tail points away from the sun. Bring warm soup and bread to a dark site.",
        "astronomy",
    ),
    (
        "Probe reaches orbit around distant moon\n\n"
        "The spacecraft fired its engine for forty minutes to slip into orbit. Scientists "
        "will map craters on the icy moon and measure its faint atmosphere.",
        "astronomy",
    ),
    (
        "Observatory catalogues a thousand new galaxies\n\n"
        "Astronomers used the survey telescope to measure the light of faint galaxies and "
        "estimate their distance through redshift. Several host bright quasars.",
        "astronomy",
    ),
]

UNSEEN_COOKING = (
    "Chef opens noodle bar\n\n"
    "The menu offers broth simmered overnight, hand-pulled noodles and a dough recipe "
    "borrowed from the chef's grandmother. Garlic, pepper and butter feature in most dishes."
)
UNSEEN_ASTRONOMY = (
    "Meteor shower peaks this weekend\n\n"
    "Astronomers expect sixty meteors an hour. Telescopes are not needed; find a dark sky, "
    "let your eyes adjust and look towards the comet's old orbit near the bright star Vega."
)
UNSEEN_GARDENING = (
    "How to keep slugs off young lettuces\n\n"
    "Slugs and other garden pests love young vegetables. Mulch the soil with grit, water the "
    "plants in the morning and prune back the flowers that shade the beds."
)


def test_assigns_the_obvious_topic_from_a_few_tagged_articles() -> None:
    assigner = TopicAssigner.train(TOPICS, TAGGED)
    assert assigner.assign(UNSEEN_COOKING) == "cooking"
    assert assigner.assign(UNSEEN_ASTRONOMY) == "astronomy"


def test_works_from_descriptions_alone() -> None:
    assigner = TopicAssigner.train(TOPICS, [])
    assert assigner.assign("Five recipes for baking with chefs' favourite ingredients") == (
        "cooking"
    )
    assert assigner.assign("New telescopes find planets around distant stars") == "astronomy"
    assert assigner.assign(UNSEEN_GARDENING) == "gardening"


def test_a_topic_without_tagged_articles_wins_when_its_description_fits() -> None:
    assigner = TopicAssigner.train(TOPICS, TAGGED)
    assert assigner.assign(UNSEEN_GARDENING) == "gardening"
    assert assigner.assign(UNSEEN_COOKING) == "cooking"


def test_a_topic_without_tagged_articles_wins_when_only_one_topic_has_them() -> None:
    cooking_only = [(text, topic) for text, topic in TAGGED if topic == "cooking"]
    assigner = TopicAssigner.train(TOPICS, cooking_only)
    assert assigner.assign(UNSEEN_GARDENING) == "gardening"
    assert assigner.assign(UNSEEN_COOKING) == "cooking"


def test_scores_cover_every_topic_in_configured_order() -> None:
    scores = TopicAssigner.train(TOPICS, TAGGED).scores(UNSEEN_ASTRONOMY)
    assert list(scores) == ["cooking", "astronomy", "gardening"]
    assert max(scores, key=lambda name: scores[name]) == "astronomy"


def test_unknown_words_and_empty_text_do_not_crash() -> None:
    assigner = TopicAssigner.train(TOPICS, TAGGED)
    names = {t.name for t in TOPICS}
    for text in ["", "   ", "the and of", "Zorblax quuxified the frobnitz 42 times", "ñandú ☃"]:
        assert assigner.assign(text) in names


def test_ties_go_to_the_topic_with_most_tagged_articles() -> None:
    tagged = [*TAGGED, (UNSEEN_ASTRONOMY, "astronomy")]
    assert TopicAssigner.train(TOPICS, tagged).assign("") == "astronomy"
    assert TopicAssigner.train(TOPICS, []).assign("") == "cooking"


def test_no_topics_means_no_assignment() -> None:
    assert TopicAssigner.train([], []).assign(UNSEEN_COOKING) is None
    assert TopicAssigner.train([], TAGGED).assign(UNSEEN_COOKING) is None
    assert TopicAssigner.train([], TAGGED).scores(UNSEEN_COOKING) == {}


def test_tagged_articles_of_unconfigured_topics_are_ignored() -> None:
    tagged = [*TAGGED, ("Derby ends level after late penalty\n\nThe striker scored.", "sport")]
    assigner = TopicAssigner.train(TOPICS, tagged)
    assert "sport" not in assigner.scores(UNSEEN_COOKING)
    assert assigner.assign("The striker scored a late penalty") in {t.name for t in TOPICS}


def test_repeated_topic_names_keep_the_first_profile() -> None:
    topics = [*TOPICS, TopicProfile("cooking", "Telescopes and galaxies.")]
    assigner = TopicAssigner.train(topics, [])
    assert list(assigner.scores("")) == ["cooking", "astronomy", "gardening"]
    assert assigner.assign("A survey of galaxies with telescopes") == "astronomy"


def test_single_topic_takes_everything() -> None:
    assigner = TopicAssigner.train(TOPICS[:1], TAGGED)
    assert assigner.assign(UNSEEN_ASTRONOMY) == "cooking"


def test_training_is_deterministic() -> None:
    first = TopicAssigner.train(TOPICS, TAGGED)
    second = TopicAssigner.train(list(TOPICS), list(TAGGED))
    for text in (UNSEEN_COOKING, UNSEEN_ASTRONOMY, UNSEEN_GARDENING):
        assert first.scores(text) == second.scores(text)


_SCORES_SCRIPT = """
import json
from tests.test_topics import TAGGED, TOPICS, UNSEEN_GARDENING
from digest.topics import TopicAssigner
print(json.dumps(TopicAssigner.train(TOPICS, TAGGED).scores(UNSEEN_GARDENING)))
"""


def test_scores_do_not_depend_on_string_hashing() -> None:
    # Set and dict orders of strings change with PYTHONHASHSEED; float sums must not.
    def scores_with(seed: str) -> dict[str, float]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _SCORES_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=Path(__file__).resolve().parents[1],
        )
        result: dict[str, float] = json.loads(done.stdout)
        return result

    assert scores_with("1") == scores_with("2")
