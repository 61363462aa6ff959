"""One edition variant's layout, built once: Jinja2 -> MJML -> HTML with inlined CSS.

Subscribers who share a variant (same stories, zone, format) share this work; each of them
then only costs `CompiledDigest.personalise` or a message built from the same pieces.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

import css_inline
import jinja2
from mjml import mjml2html

from digest.compose.environment import HTML_TEMPLATE, TEXT_TEMPLATE, render_template
from digest.compose.personal import Personal, Placeholders, SlotTemplate, split_slots
from digest.compose.theme import Theme
from digest.compose.view import edition_context, one_line
from digest.errors import TemplateError
from digest.models import Edition, MailFormat

# MJML's own way to ask for inlining; mjml-python leaves it to us (css-inline does it)
_INLINE_STYLE = re.compile(r"<mj-style\s+inline=\"inline\"\s*>(.*?)</mj-style>", re.S)


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    preheader: str
    html: str  # empty for text-only subscribers
    text: str


@dataclass(frozen=True)
class CompiledDigest:
    """Subject, preheader and both parts of one variant, with slots for personal values."""

    subject: str
    preheader: str
    text: SlotTemplate
    html: SlotTemplate | None

    def personalise(self, personal: Personal) -> RenderedDigest:
        values = personal.values()
        html_part = self.html.fill(html_values(values)) if self.html else ""
        return RenderedDigest(
            self.subject, self.preheader, html_part, self.text.fill(text_values(values))
        )


def html_values(values: tuple[str, ...]) -> list[str]:
    return [html.escape(value, quote=True) for value in values]


def text_values(values: tuple[str, ...]) -> list[str]:
    return [one_line(value) for value in values]


def compile_digest(
    edition: Edition, theme: Theme, labels: Mapping[str, str], env: jinja2.Environment
) -> CompiledDigest:
    """Render both templates once for this edition's variant; a mistake names template+line."""
    placeholders = Placeholders.fresh()
    context = edition_context(edition, theme, labels, placeholders.markers())
    text = render_template(env, TEXT_TEMPLATE, context)
    text_slots = split_slots(text, placeholders, TEXT_TEMPLATE)
    html_slots = None
    if edition.subscriber.format is MailFormat.HTML:
        page = mjml_to_html(render_template(env, HTML_TEMPLATE, context))
        html_slots = split_slots(page, placeholders, HTML_TEMPLATE)
    return CompiledDigest(context["subject"], context["preheader"], text_slots, html_slots)


def mjml_to_html(mjml: str) -> str:
    """MJML to HTML, then the `<mj-style inline="inline">` rules inlined into the elements.

    Media queries (column stacking, dark mode) stay in `<style>` in the head, where the
    mail clients that understand them look.
    """
    inline_css = "\n".join(_INLINE_STYLE.findall(mjml))
    try:
        page = str(mjml2html(_INLINE_STYLE.sub("", mjml)))
    except ValueError as exc:
        raise TemplateError(f"{HTML_TEMPLATE}: the MJML it produced is invalid: {exc}.") from exc
    if not inline_css.strip():
        return page
    inliner = css_inline.CSSInliner(
        inline_style_tags=False, keep_style_tags=True, keep_link_tags=True,
        load_remote_stylesheets=False, extra_css=inline_css,
    )  # fmt: skip
    try:
        return str(inliner.inline(page))
    except (css_inline.InlineError, ValueError) as exc:
        raise TemplateError(f"{HTML_TEMPLATE}: the inline CSS is invalid: {exc}.") from exc
