from digest.models import Article
from digest.sentences import split_sentences
from digest.summarise import central_sentences, summarise

from .conftest import NOW

BODY = (
    "The council met on Monday to discuss the new harbour wall. The wall will cost £4.5m "
    "and protect 300 homes from flooding. Dr. Ana Reyes, the engineer, said work starts in "
    "March.\n\nRead more\n\nPhoto: Harbour Board\n\nResidents welcomed the harbour wall plan "
    "at a packed meeting. Some asked why the flooding work took so long.\n\nBy Jo Smith"
)


def article(standfirst: str = "", text: str = BODY) -> Article:
    return Article(
        guid="g",
        url="https://x.example",
        title="T",
        text=text,
        source="S",
        published=NOW,
        standfirst=standfirst,
    )


def test_standfirst_is_the_summary_when_it_has_two_sentences() -> None:
    summary = summarise(article("The wall is approved. Work starts in March."))

    assert summary == "The wall is approved. Work starts in March."


def test_one_sentence_standfirst_is_completed_from_the_body() -> None:
    summary = summarise(article("The harbour wall plan is approved."))

    sentences = split_sentences(summary)
    assert sentences[0] == "The harbour wall plan is approved."
    assert len(sentences) == 2


def test_without_standfirst_central_sentences_in_text_order() -> None:
    summary = summarise(article(), max_sentences=3)

    sentences = split_sentences(summary)
    assert len(sentences) == 3
    positions = [BODY.index(s) for s in sentences]
    assert positions == sorted(positions)


def test_boilerplate_never_reaches_a_summary() -> None:
    text = (
        "Read more\n\nClick here to subscribe.\n\nBy Jo Smith\n\nThe pier opens today. Crowds came."
    )
    summary = summarise(article(text=text))

    assert "Read more" not in summary and "Click here" not in summary and "Jo Smith" not in summary
    assert summary == "The pier opens today. Crowds came."


def test_length_budget_drops_whole_sentences() -> None:
    standfirst = "First sentence is here. Then a second one that runs well past the budget."
    summary = summarise(article(standfirst), max_chars=60)

    assert summary == "First sentence is here."


def test_abbreviations_and_decimals_do_not_split() -> None:
    assert split_sentences("Dr. Reyes paid £4.5m to U.S. firms. It worked.") == [
        "Dr. Reyes paid £4.5m to U.S. firms.",
        "It worked.",
    ]


def test_central_sentences_prefers_the_shared_subject() -> None:
    sentences = [
        "The harbour wall will protect homes from flooding.",
        "A cat sat on a mat.",
        "Flooding of homes near the harbour led to the wall plan.",
    ]

    assert central_sentences(sentences, 2) == [sentences[0], sentences[2]]
