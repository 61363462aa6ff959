import re
from datetime import time
from pathlib import Path

import pytest

from digest.config import ENV_NAMES, Settings, load_settings
from digest.errors import ConfigError
from digest.models import Frequency, MailFormat
from digest.sourcelist import load_sources
from digest.subscribers import load_subscribers

from .conftest import REPO, Project


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SMTP_HOST=mail.example.com\nSMTP_PORT=2525\nDIGEST_NAME=Morning Post\n")

    settings = load_settings(env_file, {"DIGEST_NAME": "Evening Post"})

    assert settings.smtp_host == "mail.example.com"
    assert settings.port == 2525
    assert settings.newsletter_name == "Evening Post"


def test_invalid_value_in_env_file_names_its_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# mail\nSMTP_HOST=mail.example.com\nSMTP_TLS=sometimes\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(env_file, {})

    assert caught.value.path == str(env_file)
    assert caught.value.line == 3
    assert "SMTP_TLS must be one of starttls, ssl, none" in str(caught.value)


def test_invalid_value_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SMTP_PORT=25\n")

    with pytest.raises(ConfigError, match=r"^environment variable SMTP_PORT: SMTP_PORT='x'"):
        load_settings(env_file, {"SMTP_PORT": "x"})


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, {})

    assert settings.smtp_host == ""
    assert settings.port == 587
    assert settings.database == Path("data/digest.db")


def test_password_is_kept_out_of_repr() -> None:
    settings = load_settings(None, {"SMTP_PASSWORD": "hunter2-secret", "DIGEST_SECRET": "s3cr3t"})

    assert "hunter2-secret" not in repr(settings)
    assert "s3cr3t" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("SMTP_PORT", "twenty-five", "SMTP_PORT"),
        ("SMTP_TLS", "maybe", "SMTP_TLS must be one of"),
        ("DIGEST_FROM", "not an address", "DIGEST_FROM"),
        ("DIGEST_BASE_URL", "ftp://x", "DIGEST_BASE_URL"),
        ("DIGEST_MAX_AGE_DAYS", "-1", "DIGEST_MAX_AGE_DAYS"),
    ],
)
def test_invalid_settings_say_which_variable(name: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(None, {name: value})


def test_project_files_load(project: Project) -> None:
    sources = load_sources(project.root / "sources.yaml")
    subscribers = load_subscribers(project.root / "subscribers.yaml", sources.topic_names)

    assert [s.kind for s in sources.sources] == ["folder", "folder", "feed", "feed"]
    assert sources.topics_for_labels(("Weather", "unknown")) == ("coast",)
    farmer = subscribers[1]
    assert farmer.frequency is Frequency.WEEKDAYS
    assert farmer.format is MailFormat.TEXT
    assert farmer.send_at.hour == 6 and farmer.send_at.minute == 30


@pytest.mark.parametrize(
    ("entry", "line", "fragment"),
    [
        ("  - email: not-an-email\n    topics: [coast]\n", 2, "not an email address"),
        ("  - email: a@example.com\n    topics: [space]\n", 3, "unknown topic `space`"),
        (
            "  - email: a@example.com\n    topics: [coast]\n    timezone: Mars/Olympus\n",
            4,
            "unknown timezone",
        ),
        ("  - email: a@example.com\n    topics: [coast]\n    send_at: '25:00'\n", 4, "HH:MM"),
        (
            "  - email: a@example.com\n    topics: [coast]\n    frequency: hourly\n",
            4,
            "daily, weekdays, weekly",
        ),
        (
            "  - email: a@example.com\n    topics: [coast]\n    colour: blue\n",
            4,
            "unknown key `colour`",
        ),
        (
            "  - email: a@example.com\n    topics: [coast]\n    days: [mon]\n",
            4,
            "only applies to weekly",
        ),
        ("  - name: Nobody\n    topics: [coast]\n", 2, "needs `email:`"),
        ("  - email: a@example.com\n    topics: []\n", 2, "at least one"),
        ("  - email: a@example.com\n    topics: [coast\n", 4, "invalid YAML"),
    ],
)
def test_invalid_subscriber_names_file_line_and_fix(
    tmp_path: Path, project: Project, entry: str, line: int, fragment: str
) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text("subscribers:\n" + entry, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_subscribers(path, {"coast", "farming"})

    assert fragment in str(caught.value)
    assert caught.value.path == str(path)
    assert caught.value.line == line


def test_duplicate_subscriber_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text(
        "subscribers:\n  - email: a@example.com\n    topics: [coast]\n"
        "  - email: A@example.com\n    topics: [coast]\n"
    )
    with pytest.raises(ConfigError, match=r"subs.yaml:4: .*listed twice"):
        load_subscribers(path, {"coast"})


def test_unquoted_send_at_is_read_as_time(tmp_path: Path) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text(
        "subscribers:\n  - email: a@example.com\n    topics: [coast]\n    send_at: 07:45\n"
    )

    (subscriber,) = load_subscribers(path, {"coast"})

    assert (subscriber.send_at.hour, subscriber.send_at.minute) == (7, 45)


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        ("topics:\n  coast: {}\nsources:\n  - name: x\n", 4, "exactly one of `feed:`"),
        (
            "topics:\n  coast: {}\nsources:\n  - feed: a.xml\n    topics: [moon]\n",
            5,
            "unknown topic `moon`",
        ),
        (
            "topics:\n  coast: {}\nsources:\n  - feed: a.xml\n    allow_private: yes please\n",
            5,
            "`true` or `false`",
        ),
        ("topics:\n  Big Topic!: {}\nsources: []\n", 2, "lower-case"),
        ("topics: {}\nsources: []\n", 1, "at least one topic"),
        ("sources: []\n", 1, "`topics` must be a mapping"),
        ("topics:\n  coast: {}\nsources:\n  - feed: a.xml\n    url: x\n", 5, "unknown key `url`"),
    ],
)
def test_invalid_sources_file_names_line(
    tmp_path: Path, body: str, line: int, fragment: str
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(body, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_sources(path)

    assert fragment in str(caught.value)
    assert caught.value.line == line


def test_yaml_tags_that_run_code_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text("subscribers: !!python/object/apply:os.system ['echo hacked']\n")

    with pytest.raises(ConfigError, match="invalid YAML"):
        load_subscribers(path, {"coast"})


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = (REPO / ".env.example").read_text(encoding="utf-8")

    for name in ENV_NAMES.values():
        assert re.search(rf"`{name}`", readme), f"README does not document {name}"
        assert f"{name}=" in example, f".env.example does not show {name}"
    assert set(ENV_NAMES) == set(Settings.__dataclass_fields__)


def test_bundled_configuration_is_valid() -> None:
    sources = load_sources(REPO / "sources.yaml")
    subscribers = load_subscribers(REPO / "subscribers.yaml", sources.topic_names)

    assert len(sources.topics) >= 5
    assert len(subscribers) >= 3


def test_a_quoted_send_at_may_give_seconds(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(
        "subscribers:\n  - email: a@example.com\n    topics: [coast]\n    send_at: '07:45:30'\n"
    )

    (subscriber,) = load_subscribers(path, {"coast"})

    assert subscriber.send_at == time(7, 45, 30)
