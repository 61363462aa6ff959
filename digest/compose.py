"""Edition + subscriber -> the email: Jinja2 + MJML for HTML, a written plain-text part."""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from mjml import mjml2html

from digest.errors import TemplateError
from digest.models import Article, Edition, MailFormat, Section, Story, Subscriber

HTML_TEMPLATE = "digest.mjml.j2"
TEXT_TEMPLATE = "digest.txt.j2"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Branding:
    newsletter_name: str
    base_url: str
    mail_from: str


@dataclass(frozen=True)
class SubscriberLinks:
    unsubscribe: str
    manage: str
    view_online: str


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    preheader: str
    html: str
    text: str


def template_environment(templates_dir: Path) -> jinja2.Environment:
    """Autoescaping everywhere but the plain-text templates; undefined names are errors."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=lambda name: name is None or not name.endswith(".txt.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_digest(
    edition: Edition, brand: Branding, links: SubscriberLinks, env: jinja2.Environment
) -> RenderedDigest:
    """Render both parts; a template mistake raises TemplateError with template and line."""
    context = _context(edition, brand, links)
    text = _render(env, TEXT_TEMPLATE, context)
    html = ""
    if edition.subscriber.format is MailFormat.HTML:
        html = _mjml_to_html(_render(env, HTML_TEMPLATE, context))
    return RenderedDigest(context["subject"], context["preheader"], html, text)


def _context(edition: Edition, brand: Branding, links: SubscriberLinks) -> dict[str, Any]:
    zone = ZoneInfo(edition.subscriber.timezone)
    local = edition.created_at.astimezone(zone)
    date_label = f"{local:%A} {local.day} {local:%B %Y}"
    lead = edition.stories[0].lead.title if edition.stories else "No new stories"
    return {
        "newsletter": brand.newsletter_name,
        "subscriber": edition.subscriber,
        "edition_id": edition.id,
        "date_label": date_label,
        "subject": one_line(f"{brand.newsletter_name}, {date_label}: {lead}"),
        "preheader": _preheader(edition),
        "sections": [
            {
                "label": s.label,
                "topic": s.topic,
                "stories": [_story_view(st, zone) for st in s.stories],
            }
            for s in edition.sections
        ],
        "story_count": len(edition.stories),
        "links": links,
        "base_url": brand.base_url,
    }


def _section_view(section: Section, zone: ZoneInfo) -> dict[str, Any]:
    stories = [_story_view(story, zone) for story in section.stories]
    return {"label": section.label, "topic": section.topic, "stories": stories}


def _story_view(story: Story, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "headline": story.lead.title,
        "url": story.lead.url,
        "source": story.lead.source,
        "time_label": _time_label(story.lead, zone),
        "summary": story.summary,
        "also": [{"source": a.source, "url": a.url, "title": a.title} for a in story.also],
        "related": [
            {"title": r.title, "url": r.url, "source": r.source, "kind": r.kind}
            for r in story.related
        ],
    }


def _time_label(article: Article, zone: ZoneInfo) -> str:
    local = article.published.astimezone(zone)
    return f"{local.day} {local:%b}, {local:%H:%M}"


def _preheader(edition: Edition) -> str:
    headlines = [story.lead.title for story in edition.stories[1:3]]
    return one_line("Also today: " + "; ".join(headlines)) if headlines else ""


def _render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or name}:{exc.lineno}"
        raise TemplateError(f"{where}: template syntax error: {exc.message}.") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            f"template `{exc.name}` not found; check DIGEST_TEMPLATES_DIR."
        ) from exc
    except (jinja2.UndefinedError, TypeError, ValueError) as exc:
        raise TemplateError(f"{_template_line(exc, name)}: {exc}; fix the template.") from exc


def _template_line(exc: BaseException, name: str) -> str:
    """Where in a template an exception was raised, from Jinja2's rewritten traceback."""
    where = name
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}:{line}"
    return where


def _mjml_to_html(mjml: str) -> str:
    try:
        return str(mjml2html(mjml))
    except ValueError as exc:
        raise TemplateError(f"{HTML_TEMPLATE}: the MJML it produced is invalid: {exc}.") from exc


def one_line(value: str) -> str:
    """A header-safe value: control characters (CR, LF, ...) become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def build_message(
    rendered: RenderedDigest,
    subscriber: Subscriber,
    brand: Branding,
    links: SubscriberLinks,
    now: datetime,
    message_id: str,
) -> bytes:
    """A multipart/alternative message (text only for text subscribers), CRLF line ends."""
    message = EmailMessage(policy=policy.SMTP)
    name, address = parseaddr(brand.mail_from)
    message["From"] = Address(one_line(name), addr_spec=address)
    message["To"] = Address(one_line(subscriber.name), addr_spec=subscriber.email)
    message["Subject"] = one_line(rendered.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["List-Unsubscribe"] = f"<{links.unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text, cte="quoted-printable")
    if rendered.html:
        message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    return message.as_bytes()


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain)
