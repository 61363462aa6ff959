import re
import shutil
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.collect import collect
from digest.compose import Composer, template_environment
from digest.editions import next_edition
from digest.errors import TemplateError
from digest.links import TokenCheck, TokenProblem, check_token, subscriber_key
from digest.models import Edition, Section, Story
from digest.runtime import Runtime

from .conftest import NOW, REPO


def parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def sailor_edition(runtime: Runtime) -> Edition:
    collect(runtime.sources, runtime.store, runtime.settings, NOW)
    ctx = runtime.send_context
    return next_edition(runtime.subscribers[0], runtime.store, ctx.labels, runtime.settings, NOW)


def test_message_carries_headlines_and_summaries_in_both_parts(runtime: Runtime) -> None:
    edition = sailor_edition(runtime)
    message = parse(runtime.send_context.composer.envelope(edition).data)

    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert edition.stories
    for story in edition.stories:
        assert story.lead.title in text
        assert story.summary in " ".join(text.split())
        assert story.lead.url in html
    assert "Brenn" not in html and "Brenn" not in text  # farming is not the sailor's topic
    assert 'lang="en"' in html


def test_two_outlets_show_as_also_covered_by(runtime: Runtime) -> None:
    edition = sailor_edition(runtime)
    text = runtime.send_context.composer.render(edition).text

    (story,) = [s for s in edition.stories if "Gull Point" in s.lead.title and s.also]
    assert story.lead.source == "Bayside Courier"
    also = "Also covered by:\n  - Shoreline Post <https://shoreline.example.net/gull-point-light"
    assert also in text
    assert "Related: Harbour Board Approves New Pier for Gull Point Ferries" in text


def test_headers_are_complete_and_unsubscribe_link_is_signed(runtime: Runtime) -> None:
    edition = sailor_edition(runtime)
    envelope = runtime.send_context.composer.envelope(edition)
    message = parse(envelope.data)

    assert message["To"] == "Sam Sailor <sailor@example.com>"
    assert message["From"] == "Bayside Digest <news@bayside.example.com>"
    assert message["Message-ID"] == envelope.message_id
    assert message["Message-ID"].endswith("@bayside.example.com>")
    assert message["Date"]
    assert message["Subject"].startswith("The Digest, Thursday 26 November 2026: ")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://digest.bayside.example.com/unsubscribe/")
    token = url.rsplit("/", 1)[1]
    secret = "test-secret-not-for-production"
    valid = check_token(secret, token, "unsubscribe", NOW)
    assert valid == TokenCheck(subscriber_key(secret, "sailor@example.com"))
    assert "sailor" not in token and "c2FpbG9y" not in token  # the address is not in the link
    assert check_token(secret, token, "manage", NOW).problem is TokenProblem.FORGED
    assert check_token("another-secret", token, "unsubscribe", NOW).problem is TokenProblem.FORGED
    late = NOW + timedelta(days=181)
    assert check_token(secret, token, "unsubscribe", late).problem is TokenProblem.EXPIRED


def test_message_bytes_are_canonical_crlf(runtime: Runtime) -> None:
    data = runtime.send_context.composer.envelope(sailor_edition(runtime)).data

    assert b"\r\n" in data
    assert re.search(rb"(?<!\r)\n", data) is None
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


def test_text_subscriber_gets_plain_text_only(runtime: Runtime) -> None:
    collect(runtime.sources, runtime.store, runtime.settings, NOW)
    ctx = runtime.send_context
    farmer = runtime.subscribers[1]
    edition = next_edition(farmer, runtime.store, ctx.labels, runtime.settings, NOW)

    message = parse(ctx.composer.envelope(edition).data)

    assert message.get_content_type() == "text/plain"
    assert "Apple" in message.get_content()
    assert "Gull Point" not in message.get_content()


def test_header_injection_through_names_and_headlines_is_impossible(runtime: Runtime) -> None:
    edition = sailor_edition(runtime)
    evil_subscriber = replace(edition.subscriber, name="Eve\r\nBcc: victim@example.com")
    story = edition.stories[0]
    evil_lead = replace(story.lead, title="Big news\r\nBcc: other@example.com")
    evil_story = Story(story.topic, evil_lead, story.summary)
    evil = replace(
        edition, subscriber=evil_subscriber, sections=(Section("coast", "Coast", (evil_story,)),)
    )

    message = parse(runtime.send_context.composer.envelope(evil).data)

    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and "\n" not in message["To"]
    assert len([k for k in message if k.lower() == "bcc"]) == 0


def test_article_markup_is_escaped_in_the_html(runtime: Runtime) -> None:
    edition = sailor_edition(runtime)
    story = edition.stories[0]
    hostile = replace(story.lead, title='<script>alert("x")</script><img src=x onerror=alert(1)>')
    section = Section("coast", "Coast", (Story(story.topic, hostile, "<b>bold</b> claim."),))

    html = runtime.send_context.composer.render(replace(edition, sections=(section,))).html

    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def copy_templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(REPO / "templates", target)
    return target


def composer_with(runtime: Runtime, templates: Path) -> Composer:
    return replace(runtime.send_context.composer, env=template_environment(templates))


def test_undefined_variable_names_template_and_line(runtime: Runtime, tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    story = templates / "partials" / "story.mjml.j2"
    lines = story.read_text().splitlines()
    lines.insert(2, "{{ story.no_such_field }}")
    story.write_text("\n".join(lines) + "\n")

    with pytest.raises(TemplateError) as caught:
        composer_with(runtime, templates).render(sailor_edition(runtime))

    assert "story.mjml.j2:3" in str(caught.value)
    assert "no_such_field" in str(caught.value)


def test_template_syntax_error_names_template_and_line(runtime: Runtime, tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    text = templates / "digest.txt.j2"
    text.write_text(text.read_text() + "{% if %}\n")
    line_count = len(text.read_text().splitlines())

    with pytest.raises(TemplateError) as caught:
        composer_with(runtime, templates).render(sailor_edition(runtime))

    assert f"digest.txt.j2:{line_count}" in str(caught.value)


def test_user_templates_folder_overrides_the_bundled_one(runtime: Runtime, tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    text = templates / "digest.txt.j2"
    text.write_text("Custom digest for {{ subscriber.name }}\n" + text.read_text())

    rendered = composer_with(runtime, templates).render(sailor_edition(runtime))

    assert rendered.text.startswith("Custom digest for Sam Sailor")
