from pathlib import Path

import pytest

from digest.errors import SourceError
from digest.sources.articletext import parse_article_text

from .conftest import FIXTURES


def read(name: str) -> str:
    return (FIXTURES / "articles" / name).read_text(encoding="utf-8")


def test_full_layout_is_split_into_its_parts() -> None:
    article = parse_article_text(read("lighthouse-keepers.txt"), "lighthouse-keepers.txt")

    assert article.topic_label == "Coast"
    assert article.headline == "Last Lighthouse Keepers of Gull Point Hand Over to Automatic Beacon"
    assert article.standfirst.startswith("The two keepers who have tended")
    assert article.standfirst.endswith("forty miles away.")
    assert article.outlet == "Bayside Courier"
    assert article.related_headlines == ("Harbour Board Approves New Pier for Gull Point Ferries",)
    assert article.footnotes == ("Visitor numbers are estimates from the harbour board",)
    assert len(article.paragraphs) == 3


def test_boilerplate_never_reaches_the_paragraphs() -> None:
    article = parse_article_text(read("lighthouse-keepers.txt"), "x")
    body = "\n".join(article.paragraphs)

    assert "Discuss" not in body
    assert "Visitor numbers" not in body
    assert "Harbour Board Approves" not in body
    assert "Bayside Courier" not in body


def test_plain_layout_has_headline_and_paragraphs_only() -> None:
    article = parse_article_text(read("orchard-notes.txt"), "orchard-notes.txt")

    assert article.headline == "Apple Growers Count a Record Harvest in the Brenn Valley"
    assert article.topic_label == ""
    assert article.outlet == ""
    assert article.related_headlines == ()
    assert article.paragraphs[0].startswith("Orchards in the Brenn Valley")
    assert len(article.paragraphs) == 3


def test_sentence_case_subheading_stays_in_the_body() -> None:
    text = (
        "Headline Of The Day\n\nFirst paragraph here.\n\nWhat happens next for the town\n\nMore.\n"
    )
    article = parse_article_text(text, "x")

    assert article.related_headlines == ()
    assert "What happens next for the town" in article.paragraphs


def test_windows_line_endings_and_bom_are_read() -> None:
    text = "\ufeffCoast\r\n\r\nA Title Line Here\r\n\r\nIt said so.\r\nSome Outlet\r\n\r\nBody.\r\n"
    article = parse_article_text(text.lstrip("\ufeff"), "x")

    assert (article.topic_label, article.outlet, article.paragraphs) == (
        "Coast",
        "Some Outlet",
        ("Body.",),
    )


@pytest.mark.parametrize(
    ("text", "line", "advice"),
    [
        ("", 1, "empty"),
        ("\n\n  \n", 1, "empty"),
        ("Only A Headline\n", 1, "no paragraphs"),
        ("\n\nCoast\n\nA Headline With No Body At All\n\nDiscuss\n", 3, "no paragraphs"),
        ("abc\x00def", 1, "binary"),
    ],
)
def test_unusable_files_name_the_line_and_the_fix(text: str, line: int, advice: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_article_text(text, "bad.txt")

    assert caught.value.line == line
    assert advice in str(caught.value)
    assert str(caught.value).startswith(f"bad.txt:{line}:")


def test_fixture_articles_are_our_own_text() -> None:
    """The project never ships text copied from the shared seed article."""
    seeds = Path(__file__).parent.parent.parent / "shared" / "seeds"
    ours = " ".join(p.read_text(encoding="utf-8") for p in (FIXTURES / "articles").iterdir())
    for seed in seeds.glob("*.txt") if seeds.is_dir() else []:
        first_sentence = seed.read_text(encoding="utf-8").split("\n\n")[2][:60]
        assert first_sentence not in ours
