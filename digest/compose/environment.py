"""The Jinja2 environment for the templates, and rendering that names template and line."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import jinja2

from digest.errors import TemplateError

HTML_TEMPLATE = "digest.mjml.j2"
TEXT_TEMPLATE = "digest.txt.j2"


def template_environment(templates_dir: Path) -> jinja2.Environment:
    """Autoescaping everywhere but the plain-text templates; undefined names are errors.

    `auto_reload` re-reads a template whose file changed, so a designer sees edits at once.
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=lambda name: name is None or not name.endswith(".txt.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Render one template; any mistake raises TemplateError naming the template and line."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or name}:{exc.lineno}"
        raise TemplateError(f"{where}: template syntax error: {exc.message}.") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            f"template `{exc.name}` not found; check DIGEST_TEMPLATES_DIR."
        ) from exc
    except (jinja2.UndefinedError, TypeError, ValueError, AttributeError) as exc:
        raise TemplateError(f"{_template_line(exc, name)}: {exc}; fix the template.") from exc


def _template_line(exc: BaseException, name: str) -> str:
    """Where in a template an exception was raised, from Jinja2's rewritten traceback."""
    where = name
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}:{line}"
    return where
