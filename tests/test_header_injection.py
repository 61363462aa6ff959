"""No user-controlled value can add a header: CR, LF and friends become spaces or are refused."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.collect import collect
from digest.deliver import MemoryMailer
from digest.editions import next_edition
from digest.errors import ConfigError
from digest.models import Section, Story

from .conftest import NOW, Project

EVIL = "Evil\r\nBcc: victim@example.net\r\nX-Injected: yes"


def sent_message(
    project: Project, subscriber_name: str = "Sam Sailor", **settings: str
) -> EmailMessage:
    runtime = project.runtime(**settings)
    mailer = MemoryMailer()
    try:
        collect(runtime.sources, runtime.store, runtime.settings, NOW)
        sailor = replace(runtime.subscribers[0], name=subscriber_name)
        ctx = runtime.send_context
        edition = next_edition(sailor, runtime.store, ctx.labels, runtime.settings, NOW)
        story = edition.stories[0]
        evil_story = Story(story.topic, replace(story.lead, title=EVIL, source=EVIL), EVIL)
        edition = replace(edition, sections=(Section("coast", EVIL, (evil_story,)),))
        mailer.send(ctx.composer.envelope(edition))
    finally:
        runtime.close()
    message = message_from_bytes(mailer.sent[0].data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def assert_clean(message: EmailMessage) -> None:
    names = [name.lower() for name in message]
    assert "bcc" not in names and "x-injected" not in names
    assert all("\n" not in str(value) and "\r" not in str(value) for value in message.values())
    assert names.count("from") == 1 and names.count("to") == 1 and names.count("subject") == 1


@pytest.mark.parametrize(
    "settings",
    [
        {"DIGEST_NAME": EVIL},
        {"DIGEST_FROM": f'"{EVIL}" <news@bayside.example.com>'},
        {"DIGEST_SUBJECT": "{name}: {headline} " + EVIL},
        {},
    ],
)
def test_settings_headlines_and_names_cannot_add_headers(
    project: Project, settings: dict[str, str]
) -> None:
    message = sent_message(project, subscriber_name=EVIL, **settings)

    assert_clean(message)
    assert "Evil" in str(message["To"]) or "Evil" in str(message["Subject"])


def test_an_address_with_a_line_break_is_refused_when_loading(
    project: Project, tmp_path: Path
) -> None:
    subscribers = project.root / "subscribers.yaml"
    evil = '"sailor@example.com\\r\\nBcc: victim@example.net"'
    subscribers.write_text(f"subscribers:\n  - email: {evil}\n    topics: [coast]\n")
    with pytest.raises(ConfigError) as caught:
        project.runtime()
    assert "subscribers.yaml:2" in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DIGEST_UNSUBSCRIBE_MAILTO", "leave@example.com\r\nBcc: x@example.net"),
        ("DIGEST_BASE_URL", "https://digest.example.com/\r\nBcc: x@example.net"),
    ],
)
def test_settings_with_a_line_break_are_refused(
    project: Project, variable: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        project.settings(**{variable: value})
