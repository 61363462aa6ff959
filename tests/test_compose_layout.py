"""The composer's layout and message bytes: size, completeness, canonical form, sharing."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from lxml import html as lxml_html

from digest.compose import Composer, template_environment
from digest.compose.view import safe_url
from digest.errors import TemplateError
from digest.models import MailFormat
from digest.runtime import Runtime

from .conftest import REPO, sample_edition
from .editions import large_edition, reader

GMAIL_CLIP = 102 * 1024


def parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    return str(part.get_content())


def test_thirty_story_digest_stays_under_gmails_clipping_size(sample_runtime: Runtime) -> None:
    edition = large_edition(reader(1))
    rendered = sample_runtime.send_context.composer.render(edition)

    assert len(edition.stories) == 30
    assert len(rendered.html.encode()) < GMAIL_CLIP


def test_text_part_holds_every_headline_and_link_of_the_html(sample_runtime: Runtime) -> None:
    composer = sample_runtime.send_context.composer
    for edition in (large_edition(reader(1)), sample_edition(sample_runtime)):
        message = parse(composer.envelope(edition).data)
        text, page = body(message, "plain"), lxml_html.fromstring(body(message, "html"))
        links = {a.get("href") for a in page.iter("a")} - {None}
        links = {link for link in links if not link.startswith("#")}
        headlines = [h.text_content() for h in page.iter("h3")]

        assert len(headlines) == len(edition.stories)
        assert [h for h in headlines if h not in text] == []
        assert sorted(link for link in links if link not in text) == []


def test_message_is_canonical_with_short_quoted_printable_lines(sample_runtime: Runtime) -> None:
    data = sample_runtime.send_context.composer.envelope(large_edition(reader(1))).data
    head, _, payload = data.partition(b"\r\n\r\n")

    assert re.search(rb"(?<!\r)\n|\r(?!\n)", data) is None
    lines = head.split(b"\r\n")
    foldable = [line for line in lines if len(line.split(b": ", 1)[-1].split()) > 1]
    assert max(len(line) for line in foldable) <= 78  # one long word (a URL) cannot fold
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    assert max(len(line) for line in payload.split(b"\r\n")) <= 76
    assert all(byte < 128 for byte in data)


def test_non_ascii_names_and_subjects_are_rfc2047_encoded(sample_runtime: Runtime) -> None:
    composer = sample_runtime.send_context.composer
    subscriber = replace(reader(2), name="Zoë Ångström-Øye")
    edition = large_edition(subscriber)
    lead = replace(edition.stories[0].lead, title="Überraschung: Fähre fährt wieder")
    first = replace(edition.sections[0].stories[0], lead=lead)
    section = replace(edition.sections[0], stories=(first, *edition.sections[0].stories[1:]))
    edition = replace(edition, sections=(section, *edition.sections[1:]))

    data = composer.envelope(edition).data
    message = parse(data)

    assert b"=?utf-8?" in data.partition(b"\r\n\r\n")[0]
    assert message["To"].addresses[0].display_name == "Zoë Ångström-Øye"
    assert "Überraschung: Fähre fährt wieder" in message["Subject"]
    assert "Hello Zoë Ångström-Øye," in body(message, "plain")
    assert "Hello Zoë Ångström-Øye," in body(message, "html")


def test_bulk_headers_are_present(sample_runtime: Runtime) -> None:
    message = parse(sample_runtime.send_context.composer.envelope(large_edition(reader(1))).data)

    assert message["List-Id"] == "The Digest <the-digest.news.example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["MIME-Version"] == "1.0"
    assert str(message["From"]) == "The Digest <digest@news.example.com>"
    assert message["Message-ID"].endswith("@news.example.com>")


def test_subscribers_of_one_variant_share_the_layout_but_not_their_links(
    sample_runtime: Runtime,
) -> None:
    composer = sample_runtime.send_context.composer
    first, second = large_edition(reader(1)), large_edition(reader(2))

    assert composer.variant(first) is composer.variant(second)
    later = replace(second, created_at=second.created_at + timedelta(minutes=5))
    assert composer.variant(later) is composer.variant(first)
    assert composer.variant(large_edition(replace(reader(3), timezone="Asia/Tokyo"))) is not (
        composer.variant(first)
    )
    one, two = composer.render(first), composer.render(second)
    assert "reader1@example.com" in one.html and "reader1@example.com" not in two.html
    assert composer.personal(reader(1), "x", first.created_at).unsubscribe in one.text
    assert composer.personal(reader(2), "x", first.created_at).unsubscribe not in one.text


def test_personal_values_are_escaped_in_the_html(sample_runtime: Runtime) -> None:
    evil = replace(reader(1), name='<b onmouseover="x">Mallory</b>')
    html = sample_runtime.send_context.composer.render(large_edition(evil)).html

    assert "&lt;b onmouseover=&quot;x&quot;&gt;Mallory&lt;/b&gt;" in html
    assert "<b onmouseover" not in html


def test_text_subscribers_get_a_single_plain_part(sample_runtime: Runtime) -> None:
    subscriber = replace(reader(1), format=MailFormat.TEXT)
    message = parse(sample_runtime.send_context.composer.envelope(large_edition(subscriber)).data)

    assert message.get_content_type() == "text/plain"
    assert "Harbour Council Backs Island Ferry Link" in message.get_content()


def test_a_filter_on_a_personal_value_is_a_template_error(
    sample_runtime: Runtime, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    text = templates / "digest.txt.j2"
    text.write_text(
        text.read_text().replace(
            "Hello {{ subscriber.name }}", "Hello {{ subscriber.name | upper }}"
        )
    )
    composer = replace(sample_runtime.send_context.composer, env=template_environment(templates))

    with pytest.raises(TemplateError, match=r"digest\.txt\.j2: a filter changed a personal value"):
        composer.render(large_edition(reader(1)))


def test_theme_settings_reach_the_email(tmp_path: Path) -> None:
    from .conftest import open_sample_runtime

    runtime = open_sample_runtime(
        tmp_path, DIGEST_NAME="Harbour Notes", DIGEST_LOGO_URL="https://cdn.example.com/logo.png",
        DIGEST_ACCENT_COLOR="#aa3300", DIGEST_POSTAL_ADDRESS="1 Quay Street, Port Vellan",
        DIGEST_SUBJECT="{name} ({count}): {headline}", DIGEST_LANGUAGE="cy",
    )  # fmt: skip
    try:
        rendered = runtime.send_context.composer.render(large_edition(reader(1)))
    finally:
        runtime.close()
    page = lxml_html.fromstring(rendered.html)

    assert rendered.subject.startswith("Harbour Notes (30): Harbour Council Backs")
    assert page.get("lang") == "cy"
    (logo,) = [
        img for img in page.iter("img") if img.get("src") == "https://cdn.example.com/logo.png"
    ]
    assert logo.get("alt") == "Harbour Notes"
    assert "1 Quay Street, Port Vellan" in rendered.html and "1 Quay Street" in rendered.text
    assert "color:#aa3300" in rendered.html.replace(" ", "")


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"),
        ("HTTP://Example.com/", "HTTP://Example.com/"),
        ('https://example.com/"><script>', "https://example.com/%22%3E%3Cscript%3E"),
        ("javascript:alert(1)", ""),
        (" JaVaScRiPt:alert(1)", ""),
        ("data:text/html,<b>x</b>", ""),
        ("//evil.example.com/x", ""),
        ("/relative/path", ""),
        ("https://exa mple.com/", ""),
        ("https:///no-host", ""),
        ("https://example.com/\x00", ""),
    ],
)
def test_only_absolute_http_links_survive(url: str, kept: str) -> None:
    assert safe_url(url) == kept


def test_composer_is_built_from_settings(sample_runtime: Runtime) -> None:
    assert isinstance(sample_runtime.send_context.composer, Composer)
