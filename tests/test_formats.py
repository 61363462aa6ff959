"""Local article formats, text encodings, JSON Feed, and the RSS/Atom quirks met in the wild."""

import codecs
import os
import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.errors import SourceError
from digest.models import Article
from digest.sourcelist import SourceConfig
from digest.sources.encoding import decode_bytes, split_bom
from digest.sources.feeds import parse_feed
from digest.sources.folder import read_article_file, read_folder
from digest.sources.htmlpage import parse_html_page
from digest.sources.jsonfeed import looks_like_json, parse_json_feed
from digest.sources.markdownfile import parse_markdown_article

from .conftest import FIXTURES, NOW

FORMATS = FIXTURES / "formats"
FILE_TIME = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def map_topics(labels: tuple[str, ...]) -> tuple[str, ...]:
    known = {"coast": "coast", "weather": "coast", "farming": "farming"}
    found = (known.get(label.strip().lower()) for label in labels)
    return tuple(dict.fromkeys(name for name in found if name))


def feed_source(name: str) -> SourceConfig:
    return SourceConfig(name="test feed", kind="feed", location=name)


def folder_with(tmp_path: Path, *names: str) -> Path:
    """A folder holding copies of the named fixtures, all last changed at FILE_TIME."""
    folder = tmp_path / "articles"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(FORMATS / name, folder / name)
        os.utime(folder / name, (FILE_TIME.timestamp(), FILE_TIME.timestamp()))
    return folder


def folder_source(folder: Path, **options: object) -> SourceConfig:
    return SourceConfig(name="Local desk", kind="folder", location=str(folder), **options)  # type: ignore[arg-type]


def read_one(tmp_path: Path, name: str, **options: object) -> Article:
    folder = folder_with(tmp_path, name)
    return read_article_file(folder / name, folder_source(folder, **options), map_topics)


def read_error(tmp_path: Path, name: str, **options: object) -> SourceError:
    folder = folder_with(tmp_path, name)
    result = read_folder(folder_source(folder, **options), map_topics)
    assert result.articles == []
    (error,) = result.errors
    return error


def feed_fixture(name: str) -> list[Article]:
    return parse_feed((FORMATS / name).read_bytes(), feed_source(name), map_topics, NOW)


def json_fixture(name: str) -> list[Article]:
    return parse_json_feed((FORMATS / name).read_bytes(), feed_source(name), map_topics, NOW)


# --- encodings ---


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_a_byte_order_mark_decides_the_encoding_and_is_dropped(bom: bytes, codec: str) -> None:
    text = "Harbour dues rise to £12 — “fair”, says the board.\n"

    assert decode_bytes(bom + text.encode(codec)) == text
    assert split_bom(bom + b"x")[0] == codec


def test_utf8_without_a_mark_is_read_as_utf8() -> None:
    text = "Caf\u00e9 on the quay \u2013 open till late \u2615"

    assert decode_bytes(text.encode("utf-8")) == text
    assert decode_bytes(b"") == ""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cp1252-cafe.txt", "The café’s new owners serve crème brûlée, piña colada sorbet"),
        ("latin1-fete.markdown", "Les pêcheurs ont fêté la saison près du môle. Ça a duré"),
        ("shift-jis-pier.txt", "来年の夏から大型フェリーが寄港できるようになります。"),
        ("regates-cp1252.html", "L’équipage du « Goéland » a gagné la course"),
    ],
)
def test_legacy_encodings_are_detected(name: str, expected: str) -> None:
    data = (FORMATS / name).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    assert expected in decode_bytes(data)


def test_bytes_no_encoding_explains_still_decode() -> None:
    data = bytes(range(128, 256)) * 3 + b"\x00\xff\xfe"

    assert isinstance(decode_bytes(data), str)


# --- the folder: one reader per kind of file ---


def test_folder_reads_every_format_and_leaves_other_files_alone(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path, "harbour-swim.md", "tide-mill.html", "cp1252-cafe.txt", "utf16-bom.txt"
    )
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not an article")
    (folder / ".draft.md").write_text("# Hidden Draft\n\nNot ready.\n", encoding="utf-8")
    (folder / "notes.md").mkdir()
    (folder / "README").write_text("Articles for the digest.\n", encoding="utf-8")

    result = read_folder(folder_source(folder, topics=("coast",)), map_topics)

    assert result.errors == []
    assert sorted(a.title for a in result.articles) == [
        "Café “Brisa” Reopens on the Promenade",
        "Rowing Club Buys a Second Gig",
        "Tide Mill Reopens After Ten Years",
        "Winter Swimmers Return to Gull Point Harbour",
    ]


def test_one_bad_file_is_reported_and_the_others_still_read(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "bad-date.md", "menu-only.html", "plain-topic.md")

    result = read_folder(folder_source(folder), map_topics)

    assert [a.title for a in result.articles] == ["Farmers' Market Moves Indoors for the Winter"]
    messages = sorted(str(error) for error in result.errors)
    assert messages[0].startswith(f"{folder / 'bad-date.md'}:4: ")
    assert messages[1].startswith(f"{folder / 'menu-only.html'}: no article text found")


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    result = read_folder(folder_source(tmp_path / "nowhere"), map_topics)

    assert "folder not found" in str(result.errors[0])


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read the file") as caught:
        read_article_file(tmp_path / "gone.md", folder_source(tmp_path), map_topics)

    assert caught.value.location == str(tmp_path / "gone.md")


@pytest.mark.parametrize(
    ("name", "title", "fragment"),
    [
        ("utf16-bom.txt", "Rowing Club Buys a Second Gig", "named after the club’s founder"),
        ("utf32-bom.txt", "Seal Pups Counted on the Outer Rocks", "six more than last winter"),
        ("utf16be-bom.markdown", "Lighthouse Open Day — Sunday", "climb the 112 steps"),
        ("utf8-bom.md", "Kelp Harvest Licences Granted", "cut kelp in the bay"),
        ("latin1-fete.markdown", "Fête de la Mer à Port-Lévêque", "un bal sur la grève"),
        ("shift-jis-pier.txt", "港の新しい桟橋が完成しました", "フェリーの時刻表は変わりません"),
    ],
)
def test_files_in_any_encoding_become_articles(
    tmp_path: Path, name: str, title: str, fragment: str
) -> None:
    article = read_one(tmp_path, name, topics=("coast",))

    assert article.title == title
    assert fragment in article.text
    assert "\ufeff" not in article.title + article.text


def test_text_file_keeps_its_layout_and_gets_the_link_template(tmp_path: Path) -> None:
    article = read_one(tmp_path, "cp1252-cafe.txt", link="https://bayside.example.com/a/{stem}")

    assert article.topics == ("coast",)
    assert article.source == "Bayside Courier"
    assert article.standfirst.startswith("The café’s new owners")
    assert (
        article.text == "Señora Álvarez said the terrace would stay open “until the first storm”."
    )
    assert article.url == "https://bayside.example.com/a/cp1252-cafe"
    assert article.published == FILE_TIME
    assert article.guid == "file:Local desk/cp1252-cafe.txt"


# --- Markdown ---


def test_front_matter_fills_in_the_article(tmp_path: Path) -> None:
    article = read_one(tmp_path, "harbour-swim.md", link="https://ignored.example.com/{stem}")

    assert article.title == "Winter Swimmers Return to Gull Point Harbour"
    assert article.url == "https://bayside.example.com/2026/11/winter-swimmers"
    assert article.topics == ("coast",)  # "Coast" and "Weather" both mean coast
    assert article.source == "Bayside Courier"
    assert article.author == "Petroc Lanyon"
    assert article.standfirst.startswith("Forty swimmers braved a sea of nine degrees")
    assert article.published == datetime(2026, 11, 21, 6, 45, tzinfo=UTC)


def test_markdown_body_is_rendered_sanitised_and_split_into_paragraphs(tmp_path: Path) -> None:
    article = read_one(tmp_path, "harbour-swim.md")

    paragraphs = article.text.split("\n\n")
    assert paragraphs[0].startswith("The harbour steps were crowded at dawn on Saturday")
    assert "Gull Point Bluefins began\ntheir" not in article.text  # soft breaks are spaces
    assert paragraphs[1].endswith("until March.")
    assert paragraphs[2:] == [
        "Joining in",
        "New swimmers can sign up at the harbour office.",
    ]
    assert "<strong>Gull Point Bluefins</strong>" in article.html
    assert 'href="https://bayside.example.com/harbour-office"' in article.html
    assert "Winter Swimmers Return" not in article.text  # the heading repeats the title


def test_markdown_title_comes_from_the_first_heading_then_the_file_name(tmp_path: Path) -> None:
    article = read_one(tmp_path, "tide-tables.md", topics=("coast",))

    assert article.title == "New Tide Tables Posted at the Slipway"
    assert article.text.startswith("The harbour master has put up next year's tide tables")
    assert "New Tide Tables" not in article.text
    assert article.published == FILE_TIME
    assert article.url == ""
    assert "<script" not in article.html
    assert 'href="javascript' not in article.html  # the unsafe link stays plain text
    untitled = parse_markdown_article("Just a paragraph, no heading.\n", "x.md")
    assert untitled.title == ""
    assert read_one(tmp_path, "plain-topic.md").title.startswith("Farmers' Market")


def test_a_different_heading_stays_in_the_body() -> None:
    text = "---\ntitle: Quay Works\n---\n# Phase One\n\nPiles are driven first.\n"

    article = parse_markdown_article(text, "x.md")

    assert article.title == "Quay Works"
    assert article.text == "Phase One\n\nPiles are driven first."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ('"2026-11-20"', datetime(2026, 11, 20, tzinfo=UTC)),
        ("2026-11-20T08:30:00", datetime(2026, 11, 20, 8, 30, tzinfo=UTC)),
        ("2026-11-20 08:30:00Z", datetime(2026, 11, 20, 8, 30, tzinfo=UTC)),
        ("2026-11-20T08:30:00+01:00", datetime(2026, 11, 20, 7, 30, tzinfo=UTC)),
        ("2026-11-20T23:30:00-05:00", datetime(2026, 11, 21, 4, 30, tzinfo=UTC)),
    ],
)
def test_front_matter_dates_become_utc(value: str, expected: datetime) -> None:
    article = parse_markdown_article(f"---\ndate: {value}\n---\nBody.\n", "x.md")

    assert article.published == expected
    assert article.published is not None and article.published.tzinfo is UTC


@pytest.mark.parametrize(
    ("name", "line", "advice"),
    [
        ("bad-yaml.md", 4, "invalid front matter"),
        ("bad-date.md", 4, "`date: 30/11/2026` is not an ISO 8601 date"),
        ("list-front-matter.md", 2, "must be `key: value` lines"),
        ("unclosed-front-matter.md", 1, "never closed"),
    ],
)
def test_front_matter_errors_name_the_file_and_line(
    tmp_path: Path, name: str, line: int, advice: str
) -> None:
    error = read_error(tmp_path, name, topics=("coast",))

    assert error.location == str(tmp_path / "articles" / name)
    assert error.line == line
    assert advice in str(error)


@pytest.mark.parametrize(
    ("front_matter", "line", "advice"),
    [
        ("title: Quay\ndate: 2026-02-30\n", 3, "not an ISO 8601 date"),
        ("title: Quay\ndate: 2026\n", 3, "not an ISO 8601 date"),
        ("title: [a, b]\n", 2, "`title` must be text"),
        ("title: Quay\ntopics:\n  coast: yes\n", 3, "`topics` must be a list"),
        ("url: /2026/quay\n", 2, "must be a full web address"),
        ("title: Quay\n  date: 2026-11-20\n", 3, "invalid front matter"),
        ("title: Quay\nnote: \x07\n", 3, "control character"),
    ],
)
def test_bad_front_matter_values_name_their_line(front_matter: str, line: int, advice: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_markdown_article(f"---\n{front_matter}---\nBody.\n", "quay.md")

    assert caught.value.line == line
    assert advice in str(caught.value)
    assert str(caught.value).startswith(f"quay.md:{line}: ")


def test_markdown_without_text_is_an_error() -> None:
    with pytest.raises(SourceError, match="no article text") as caught:
        parse_markdown_article("---\ntitle: Only a Title\n---\n\n# Only a Title\n", "empty.md")

    assert caught.value.line == 4


# --- topics of local files ---


def test_article_labels_win_over_the_folder_topics(tmp_path: Path) -> None:
    article = read_one(tmp_path, "plain-topic.md", topics=("coast",))

    assert article.topics == ("farming",)


def test_unknown_front_matter_topics_leave_the_article_untagged(tmp_path: Path) -> None:
    """The collector then places it by its text (see test_collect)."""
    folder = folder_with(tmp_path)
    text = "---\ntitle: Rocket\ntopics: [Space]\n---\nIt flew.\n"
    (folder / "space.md").write_text(text, encoding="utf-8")

    result = read_folder(folder_source(folder), map_topics)

    assert result.errors == []
    assert [(a.title, a.topics) for a in result.articles] == [("Rocket", ())]


# --- saved web pages ---


def test_html_page_gives_the_article_without_menus_comments_or_footer(tmp_path: Path) -> None:
    article = read_one(tmp_path, "tide-mill.html", topics=("coast",))

    assert article.title == "Tide Mill Reopens After Ten Years"
    assert article.url == "https://gazette.example.org/2026/11/tide-mill-reopens"
    assert article.author == "Morwenna Tregear"
    assert article.published == datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("The tide mill at Pennick Creek turned again")
    for boilerplate in ("News desk menu", "Sport pages", "Reader comment", "footer", "Privacy"):
        assert boilerplate not in article.text


def test_html_page_in_a_declared_legacy_encoding(tmp_path: Path) -> None:
    article = read_one(tmp_path, "regates-cp1252.html", topics=("coast",))

    assert article.title == "Régates de Port-Lévêque"
    assert article.published == datetime(2026, 7, 14, tzinfo=UTC)
    assert article.url == ""
    assert "Rubrique voile" not in article.text
    assert "Mentions légales" not in article.text


def test_html_page_title_falls_back_to_the_title_tag() -> None:
    page = (
        "<html><head><title>Gig Regatta Results</title></head><body><div class='c'>"
        "<p>Crews from four villages raced in the estuary on a calm and sunny Saturday.</p>"
        "<p>The veterans' race was paused when a seal surfaced between the boats.</p>"
        "</div></body></html>"
    )

    page_article = parse_html_page(page, "regatta.html")

    assert page_article.title == "Gig Regatta Results"
    assert page_article.text.startswith("Crews from four villages")


@pytest.mark.parametrize(
    "markup",
    ["", "   ", "plain words, no markup", "<html></html>", "https://example.com/article"],
)
def test_page_without_article_text_is_an_error(markup: str) -> None:
    with pytest.raises(SourceError, match="no article text found") as caught:
        parse_html_page(markup, "page.html")

    assert caught.value.location == "page.html"


def test_html_extraction_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network use is not allowed in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    markup = (FORMATS / "tide-mill.html").read_text(encoding="utf-8")

    assert parse_html_page(markup, "tide-mill.html").title.startswith("Tide Mill")
    with pytest.raises(SourceError):
        parse_html_page("https://gazette.example.org/2026/11/tide-mill-reopens", "url.html")
    assert attempts == []


# --- JSON Feed ---


def test_json_feed_1_1_items_become_clean_articles() -> None:
    dredger, ferry, notice = json_fixture("harbour.feed.json")

    assert dredger.source == "Harbour Notes"
    assert dredger.title == "Dredger Clears the Inner Channel"
    assert dredger.guid == "https://harbournotes.example.net/2026/dredger"
    assert dredger.url == "https://harbournotes.example.net/2026/dredger"
    assert dredger.published == datetime(2026, 11, 24, 22, 15, tzinfo=UTC)
    assert dredger.author == "Jory Pascoe"
    assert dredger.topics == ("coast",)
    assert dredger.standfirst == "Low-water access to the fish quay is back."
    assert dredger.text.split("\n\n")[1].startswith("Boats drawing two metres")
    for hostile in ("<script", "alert(1)", "onclick"):
        assert hostile not in dredger.html
    # external_url when there is no url; content_text becomes escaped paragraphs
    assert ferry.url == "https://elsewhere.example.org/ferries/winter-timetable"
    assert ferry.title == "The winter ferry timetable starts on Monday, with three crossings a day…"
    assert len(ferry.title) <= 80
    assert "five &amp; no late boat" in ferry.html
    assert ferry.html.count("<p>") == 2
    assert ferry.published == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert ferry.author == "The Harbour Desk"  # the feed's authors stand in
    assert ferry.topics == ()
    # an ftp address is dropped; an unreadable date means "now"; a summary alone is the body
    assert notice.url == ""
    assert notice.published == NOW
    assert notice.text == "The east pier light is out of service for repairs."
    assert notice.standfirst == ""
    assert notice.id and notice.id != ferry.id


def test_json_feed_1_0_with_numeric_ids_author_objects_and_relative_urls() -> None:
    martins, clean = json_fixture("coast-1.0.feed.json")

    assert martins.guid == "1041"
    assert martins.author == "Ysella Rowe"
    assert martins.published == datetime(2026, 6, 2, 16, 0, tzinfo=UTC)
    assert clean.url == "https://coastline.example.org/posts/1042"
    assert clean.author == "Coastline Editors"
    assert clean.text == "Bring gloves; bags and tea are provided."
    source = feed_source("c.json")
    with_topics = SourceConfig(name="c", kind="feed", location="c.json", topics=("coast",))
    data = (FORMATS / "coast-1.0.feed.json").read_bytes()
    assert parse_json_feed(data, source, map_topics, NOW)[0].topics == ()
    assert parse_json_feed(data, with_topics, map_topics, NOW)[0].topics == ("coast",)


def test_json_feed_in_utf16_with_a_mark_is_read() -> None:
    text = (FORMATS / "coast-1.0.feed.json").read_text(encoding="utf-8")
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")

    assert looks_like_json(data)
    assert len(parse_json_feed(data, feed_source("c.json"), map_topics, NOW)) == 2


def test_invalid_json_names_the_line() -> None:
    with pytest.raises(SourceError, match="not valid JSON") as caught:
        json_fixture("broken.feed.json")

    assert caught.value.line == 5
    assert str(caught.value).startswith("broken.feed.json:5: ")


@pytest.mark.parametrize(
    "data",
    [
        (FORMATS / "not-a-feed.json").read_bytes(),
        b"[1, 2, 3]",
        b'{"version": "1.1", "items": []}',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}',
        b'{"version": "https://jsonfeed.org/version/1.1"}',
    ],
)
def test_json_that_is_not_a_json_feed_says_so(data: bytes) -> None:
    with pytest.raises(SourceError, match="not a JSON Feed"):
        parse_json_feed(data, feed_source("other.json"), map_topics, NOW)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"version": 1}', True),
        (b' \r\n\t{"a": 1}', True),
        (codecs.BOM_UTF8 + b"\n{}", True),
        (codecs.BOM_UTF16_BE + "  {}".encode("utf-16-be"), True),
        (b'<?xml version="1.0"?><rss/>', False),
        (codecs.BOM_UTF8 + b"<rss/>", False),
        (b"[{}]", False),
        (b"", False),
    ],
)
def test_looks_like_json(data: bytes, expected: bool) -> None:
    assert looks_like_json(data) is expected


# --- RSS and Atom as they are found, through feeds.parse_feed ---


def test_rss_0_91() -> None:
    (article,) = feed_fixture("rss091.xml")

    assert article.source == "Quayside Bulletin"
    assert article.title == "Crab Prices Hold Steady"
    assert article.url == "https://quayside.example.com/crab-prices"
    assert article.text.startswith("Buyers paid the same as last week")
    assert article.published == NOW  # 0.91 items carry no date


def test_rss_1_0_rdf() -> None:
    (article,) = feed_fixture("rdf10.xml")

    assert article.source == "Moorland Diary"
    assert article.title == "Scanning Shows More Ewes in Lamb"
    assert article.url == "https://moorland.example.net/ewes-in-lamb"
    assert article.published == datetime(2026, 11, 18, 16, 20, tzinfo=UTC)
    assert article.author == "Tamsin Kitto"
    assert article.topics == ("farming",)  # from dc:subject


def test_atom_0_3() -> None:
    (article,) = feed_fixture("atom03.xml")

    assert article.source == "Valley Growers"
    assert article.title == "Cider Orchard Planted on the Old Airfield"
    assert article.url == "https://valleygrowers.example.org/cider-orchard"
    assert article.guid == "tag:valleygrowers.example.org,2026:cider-orchard"
    assert article.published == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)  # <issued>
    assert article.author == "Hedra Polglase"
    assert article.text == "Volunteers planted four hundred apple trees on the former runway."


def test_unescaped_ampersands_are_read() -> None:
    (article,) = feed_fixture("ampersands.rss.xml")

    assert article.source == "Fish & Ships"
    assert article.title == "Nets & Pots Auction Draws a Crowd"
    assert article.url == "https://fishandships.example.com/story?id=7&ref=rss"
    assert "Penwith & beyond" in article.text
    assert article.published == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_feed_declared_utf8_but_written_in_windows_1252() -> None:
    (article,) = feed_fixture("wrong-encoding.rss.xml")

    assert article.source == "Café Quay News"
    assert article.title == "Crème Brûlée Contest on the “Old” Quay"
    assert article.text == "Judges tasted twenty entries – the winner used local cream."


def test_missing_and_unreadable_dates_mean_now() -> None:
    slipway, buoy = feed_fixture("no-dates.rss.xml")

    assert slipway.published == NOW
    assert buoy.published == NOW


def test_relative_links_resolve_against_the_feed_and_xml_base() -> None:
    fares, moorings = feed_fixture("relative-links.atom.xml")

    assert fares.url == "https://gazette.example.org/2026/11/ferry-fares"
    assert moorings.url == "https://gazette.example.org/sections/harbour/moorings"


def test_html_in_titles_becomes_plain_text() -> None:
    storm, closed = feed_fixture("html-titles.rss.xml")

    assert storm.source == "The Tidal Times"
    assert storm.title == "Storm Warning for the & Western Shore"
    assert closed.title == "Harbour Closed & Boats Moved"
