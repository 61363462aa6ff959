"""Settings from the environment and `.env`: one frozen value, validated at start."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from dotenv import dotenv_values

from digest.errors import ConfigError

BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TLS_MODES = ("starttls", "ssl", "none")

T = TypeVar("T")
SUBJECT_FIELDS = ("name", "date", "headline", "count")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


@dataclass(frozen=True)
class Settings:
    """Every setting, with its environment variable name in `ENV_NAMES` below."""

    smtp_host: str = ""
    smtp_port: int = 0  # 0: the usual port for the TLS mode (587, 465 or 25)
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_tls: str = "starttls"
    smtp_timeout: float = 30.0
    smtp_ca_file: str = ""
    smtp_connections: int = 1
    smtp_rate_per_second: float = 0.0  # 0: no limit
    smtp_rate_per_hour: int = 0  # 0: no limit
    retry_limit: int = 5
    retry_base_seconds: float = 300.0
    suppress_after: int = 2
    resend_unconfirmed: str = "yes"
    unsubscribe_mailto: str = ""
    dkim_key_file: str = ""
    dkim_selector: str = ""
    dkim_domain: str = ""
    mail_from: str = "The Digest <digest@localhost>"
    database: Path = Path("data/digest.db")
    outbox: Path = Path("outbox")
    preview_dir: Path = Path("preview")
    base_url: str = "http://127.0.0.1:8000"
    secret: str = field(default="", repr=False)
    link_days: int = 180
    web_public: str = "no"
    admin_password: str = field(default="", repr=False)
    subscribers_file: Path = Path("subscribers.yaml")
    sources_file: Path = Path("sources.yaml")
    templates_dir: Path = BUNDLED_TEMPLATES
    newsletter_name: str = "The Digest"
    subject_pattern: str = "{name}, {date}: {headline}"
    language: str = "en"
    logo_url: str = ""
    accent_color: str = "#0b5cad"
    header_color: str = "#1f2328"
    background_color: str = "#f4f1ea"
    postal_address: str = ""
    max_age_days: int = 7
    stories_per_topic: int = 5
    max_stories: int = 20
    summary_sentences: int = 3
    summary_max_chars: int = 420
    related_links: int = 4
    collect_interval_minutes: int = 60
    collect_max_age_minutes: int = 30  # a send first collects when the last collect is older
    send_grace_minutes: int = 180  # a digest missed by longer (downtime) is skipped
    feed_timeout: float = 20.0
    feed_max_bytes: int = 10_000_000
    feed_retries: int = 2
    feed_concurrency: int = 4
    feed_host_delay: float = 1.0
    retention_days: int = 90

    @property
    def port(self) -> int:
        return self.smtp_port or {"starttls": 587, "ssl": 465, "none": 25}[self.smtp_tls]

    @cached_property
    def sender_address(self) -> str:
        return parseaddr(self.mail_from)[1]

    @property
    def sender_domain(self) -> str:
        return self.sender_address.rpartition("@")[2] or "localhost"


ENV_NAMES: dict[str, str] = {
    "smtp_host": "SMTP_HOST",
    "smtp_port": "SMTP_PORT",
    "smtp_user": "SMTP_USER",
    "smtp_password": "SMTP_PASSWORD",
    "smtp_tls": "SMTP_TLS",
    "smtp_connections": "SMTP_CONNECTIONS",
    "smtp_rate_per_second": "SMTP_RATE_PER_SECOND",
    "smtp_rate_per_hour": "SMTP_RATE_PER_HOUR",
    "retry_limit": "DIGEST_RETRY_LIMIT",
    "retry_base_seconds": "DIGEST_RETRY_BASE_SECONDS",
    "suppress_after": "DIGEST_SUPPRESS_AFTER",
    "resend_unconfirmed": "DIGEST_RESEND_UNCONFIRMED",
    "unsubscribe_mailto": "DIGEST_UNSUBSCRIBE_MAILTO",
    "dkim_key_file": "DIGEST_DKIM_KEY_FILE",
    "dkim_selector": "DIGEST_DKIM_SELECTOR",
    "dkim_domain": "DIGEST_DKIM_DOMAIN",
    "smtp_timeout": "SMTP_TIMEOUT",
    "smtp_ca_file": "SMTP_CA_FILE",
    "mail_from": "DIGEST_FROM",
    "database": "DIGEST_DATABASE",
    "outbox": "DIGEST_OUTBOX",
    "preview_dir": "DIGEST_PREVIEW_DIR",
    "base_url": "DIGEST_BASE_URL",
    "secret": "DIGEST_SECRET",
    "link_days": "DIGEST_LINK_DAYS",
    "web_public": "DIGEST_WEB_PUBLIC",
    "admin_password": "DIGEST_ADMIN_PASSWORD",
    "subscribers_file": "DIGEST_SUBSCRIBERS",
    "sources_file": "DIGEST_SOURCES",
    "templates_dir": "DIGEST_TEMPLATES_DIR",
    "newsletter_name": "DIGEST_NAME",
    "subject_pattern": "DIGEST_SUBJECT",
    "language": "DIGEST_LANGUAGE",
    "logo_url": "DIGEST_LOGO_URL",
    "accent_color": "DIGEST_ACCENT_COLOR",
    "header_color": "DIGEST_HEADER_COLOR",
    "background_color": "DIGEST_BACKGROUND_COLOR",
    "postal_address": "DIGEST_POSTAL_ADDRESS",
    "max_age_days": "DIGEST_MAX_AGE_DAYS",
    "stories_per_topic": "DIGEST_STORIES_PER_TOPIC",
    "max_stories": "DIGEST_MAX_STORIES",
    "summary_sentences": "DIGEST_SUMMARY_SENTENCES",
    "summary_max_chars": "DIGEST_SUMMARY_MAX_CHARS",
    "related_links": "DIGEST_RELATED_LINKS",
    "collect_interval_minutes": "DIGEST_COLLECT_INTERVAL_MINUTES",
    "collect_max_age_minutes": "DIGEST_COLLECT_MAX_AGE_MINUTES",
    "send_grace_minutes": "DIGEST_SEND_GRACE_MINUTES",
    "feed_timeout": "DIGEST_FEED_TIMEOUT",
    "feed_max_bytes": "DIGEST_FEED_MAX_BYTES",
    "feed_retries": "DIGEST_FEED_RETRIES",
    "feed_concurrency": "DIGEST_FEED_CONCURRENCY",
    "feed_host_delay": "DIGEST_FEED_HOST_DELAY",
    "retention_days": "DIGEST_RETENTION_DAYS",
}


def load_settings(env_file: Path | None, environ: Mapping[str, str]) -> Settings:
    """Merge `env_file` (if it exists) under `environ` and validate every value."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(environ)
    origins = _Origins(env_file, environ)
    kwargs: dict[str, object] = {}
    for f in fields(Settings):
        raw = values.get(ENV_NAMES[f.name])
        if raw is None or raw.strip() == "":
            continue
        kwargs[f.name] = _convert(f.name, raw.strip(), _TYPES[f.name], origins)
    settings = Settings(**kwargs)  # type: ignore[arg-type]
    _validate(settings, origins)
    return settings


@dataclass(frozen=True)
class _Origins:
    """Where each setting came from, so an error can name the .env line."""

    env_file: Path | None
    environ: Mapping[str, str]

    def error(self, name: str, message: str) -> ConfigError:
        variable = ENV_NAMES[name]
        if variable in self.environ or self.env_file is None or not self.env_file.is_file():
            return ConfigError(f"environment variable {variable}", None, message)
        return ConfigError(self.env_file, _line_of(self.env_file, variable), message)


def _line_of(env_file: Path, variable: str) -> int | None:
    pattern = re.compile(rf"^\s*(export\s+)?{variable}\s*=")
    lines = env_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return next((n for n, line in enumerate(lines, start=1) if pattern.match(line)), None)


def _convert(name: str, raw: str, kind: Callable[[str], T], origins: _Origins) -> T:
    try:
        return kind(raw)
    except ValueError:
        kind_name = getattr(kind, "__name__", "value")
        message = f"{ENV_NAMES[name]}={raw!r} is not a valid {kind_name}; fix or remove it."
        raise origins.error(name, message) from None


_TYPES: dict[str, Callable[[str], object]] = {
    f.name: {"int": int, "float": float, "Path": Path}.get(str(f.type), str)
    for f in fields(Settings)
}


def _validate(settings: Settings, origins: _Origins) -> None:
    if settings.smtp_tls not in TLS_MODES:
        message = f"SMTP_TLS must be one of {', '.join(TLS_MODES)}."
        raise origins.error("smtp_tls", message)
    if "@" not in settings.sender_address:
        message = "DIGEST_FROM must hold an address like `News <news@example.org>`."
        raise origins.error("mail_from", message)
    base_url = settings.base_url
    if (
        not base_url.startswith(("http://", "https://"))
        or not base_url.isprintable()
        or " " in base_url
    ):
        message = "DIGEST_BASE_URL must be an http:// or https:// address without spaces."
        raise origins.error("base_url", message)
    _validate_theme(settings, origins)
    _validate_delivery(settings, origins)
    if settings.web_public not in ("yes", "no"):
        raise origins.error("web_public", "DIGEST_WEB_PUBLIC must be yes or no.")
    if settings.link_days < 1:
        raise origins.error("link_days", "DIGEST_LINK_DAYS must be at least 1.")
    if settings.feed_concurrency < 1:
        raise origins.error("feed_concurrency", "DIGEST_FEED_CONCURRENCY must be at least 1.")
    numbers = ("max_age_days", "stories_per_topic", "max_stories", "summary_sentences")
    others = ("collect_max_age_minutes", "send_grace_minutes")
    for name in (
        *numbers,
        *others,
        "feed_retries",
        "feed_host_delay",
        "retention_days",
        "related_links",
    ):
        if getattr(settings, name) < 0:
            raise origins.error(name, f"{ENV_NAMES[name]} must not be negative.")


def _validate_theme(settings: Settings, origins: _Origins) -> None:
    for name in ("accent_color", "header_color", "background_color"):
        if not _COLOR.fullmatch(getattr(settings, name)):
            raise origins.error(name, f"{ENV_NAMES[name]} must be a colour like #0b5cad.")
    if settings.logo_url and not settings.logo_url.startswith(("https://", "http://")):
        raise origins.error("logo_url", "DIGEST_LOGO_URL must be an http(s) address.")
    if not _LANGUAGE.fullmatch(settings.language):
        raise origins.error("language", "DIGEST_LANGUAGE must be a language tag like en or pt-BR.")
    try:
        fields_used = {f for _, f, _, _ in string.Formatter().parse(settings.subject_pattern) if f}
    except ValueError as exc:
        raise origins.error("subject_pattern", f"DIGEST_SUBJECT is not a pattern: {exc}.") from exc
    unknown = fields_used - set(SUBJECT_FIELDS)
    if unknown:
        known = ", ".join("{" + f + "}" for f in SUBJECT_FIELDS)
        message = f"DIGEST_SUBJECT uses {{{sorted(unknown)[0]}}}; the fields are {known}."
        raise origins.error("subject_pattern", message)


def _validate_delivery(settings: Settings, origins: _Origins) -> None:
    if settings.smtp_connections < 1:
        raise origins.error("smtp_connections", "SMTP_CONNECTIONS must be at least 1.")
    for name in ("smtp_rate_per_second", "smtp_rate_per_hour", "retry_base_seconds"):
        if getattr(settings, name) < 0:
            raise origins.error(name, f"{ENV_NAMES[name]} must not be negative (0: no limit).")
    for name in ("retry_limit", "suppress_after"):
        if getattr(settings, name) < 1:
            raise origins.error(name, f"{ENV_NAMES[name]} must be at least 1.")
    if settings.resend_unconfirmed not in ("yes", "no"):
        message = "DIGEST_RESEND_UNCONFIRMED must be yes or no."
        raise origins.error("resend_unconfirmed", message)
    mailto = settings.unsubscribe_mailto
    if mailto and ("@" not in mailto or any(c in mailto for c in "<>\r\n ")):
        message = "DIGEST_UNSUBSCRIBE_MAILTO must be an address like unsubscribe@example.org."
        raise origins.error("unsubscribe_mailto", message)
    dkim = (settings.dkim_key_file, settings.dkim_selector)
    if any(dkim) and not all(dkim):
        message = "DKIM signing needs both DIGEST_DKIM_KEY_FILE and DIGEST_DKIM_SELECTOR."
        raise origins.error("dkim_selector" if dkim[0] else "dkim_key_file", message)
    if settings.dkim_key_file and not Path(settings.dkim_key_file).is_file():
        message = f"DIGEST_DKIM_KEY_FILE {settings.dkim_key_file} does not exist."
        raise origins.error("dkim_key_file", message)
