"""The web app: previews and admin pages (local), and the subscriber pages behind the
links in every digest (unsubscribe in one click, manage topics, view in the browser).

Handlers are `async` and do their (short) database work on the event loop's thread: one
thread uses the store's connection.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from digest.config import BUNDLED_TEMPLATES
from digest.deliver import html_part
from digest.due import next_slot
from digest.editions import next_edition
from digest.links import TokenProblem, check_token
from digest.models import Edition, SendState, Subscriber
from digest.runtime import Runtime
from digest.store import UNSUBSCRIBED
from digest.web.security import EMAIL_POLICY, FormTokens, SecurityHeaders, password_matches
from digest.web.state import WebState

Handler = Callable[[Request], Awaitable[Response]]
ONE_CLICK = "List-Unsubscribe=One-Click"
_EDITION = re.compile(r"[\w.-]{1,64}")
_DARK_QUERY = re.compile(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)")
_HEADERS_SHOWN = ("From", "To", "Subject", "Date", "List-Id", "List-Unsubscribe",
                  "List-Unsubscribe-Post", "Message-ID")  # fmt: skip


def create_app(runtime: Runtime, *, public: bool = False, admin_password: str = "") -> Starlette:
    """The app; `public` exposes only the subscriber pages unless an admin password is set."""
    web = WebApp(WebState(runtime), public=public, admin_password=admin_password)
    admin = web.admin_only
    routes = [
        Route("/", admin(web.index)),
        Route("/preview/{key}", admin(web.preview)),
        Route("/preview/{key}/email.html", admin(web.preview_email)),
        Route("/sources", admin(web.sources)),
        Route("/archive/{edition}/{token}", web.archive),
        Route("/unsubscribe/{token}", web.unsubscribe, methods=["GET", "POST"]),
        Route("/manage/{token}", web.manage, methods=["GET", "POST"]),
        Route("/static/web.css", web.stylesheet),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return web.not_found()

    return Starlette(
        routes=routes, middleware=[Middleware(SecurityHeaders)],
        exception_handlers={404: not_found},
    )  # fmt: skip


class WebApp:
    def __init__(self, state: WebState, *, public: bool, admin_password: str) -> None:
        self.state, self.public, self.admin_password = state, public, admin_password
        self.forms = FormTokens(state.secret)
        self.pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader(BUNDLED_TEMPLATES / "web"),
            autoescape=True, undefined=jinja2.StrictUndefined, auto_reload=True,
        )  # fmt: skip

    # --- access

    def admin_only(self, handler: Handler) -> Handler:
        """Local mode: open. Public mode: hidden, or behind the admin password if one is set."""

        async def guarded(request: Request) -> Response:
            if self.public and not self.admin_password:
                return self.not_found()
            authorization = request.headers.get("authorization", "")
            if self.public and not password_matches(authorization, self.admin_password):
                return Response("Log in to see this page.", 401,
                                {"WWW-Authenticate": 'Basic realm="digest admin"'})  # fmt: skip
            return await handler(request)

        return guarded

    # --- admin pages

    async def index(self, request: Request) -> Response:
        self.state.refresh()
        runtime = self.state.runtime
        now, last_sent = runtime.clock(), runtime.store.last_sent()
        suppressed = runtime.store.suppressed()
        rows = [self._subscriber_row(s, now, last_sent, suppressed) for s in runtime.subscribers]
        editions = runtime.store.sent_editions()
        return self.page("index.html.j2", title="Digest", subscribers=rows, editions=editions)

    async def preview(self, request: Request) -> Response:
        subscriber = self.state.subscriber(request.path_params["key"])
        if subscriber is None:
            return self.not_found()
        width = "phone" if request.query_params.get("width") == "phone" else "desktop"
        scheme = "dark" if request.query_params.get("scheme") == "dark" else "light"
        composer, edition = self.state.composer(), self._next_edition(subscriber)
        rendered = composer.render(edition)
        envelope = composer.envelope(edition)
        head = envelope.data.partition(b"\r\n\r\n")[0]
        parsed = BytesHeaderParser(policy=policy.default).parsebytes(head)
        headers = [(name, str(value)) for name in _HEADERS_SHOWN if (value := parsed[name])]
        return self.page(
            "preview.html.j2", title=f"Preview for {subscriber.name}", subscriber=subscriber,
            key=request.path_params["key"], width=width, scheme=scheme, rendered=rendered,
            headers=headers, stories=len(edition.stories),
        )  # fmt: skip

    async def preview_email(self, request: Request) -> Response:
        subscriber = self.state.subscriber(request.path_params["key"])
        if subscriber is None:
            return self.not_found()
        rendered = self.state.composer().render(self._next_edition(subscriber))
        body = rendered.html or f"<pre>{html.escape(rendered.text)}</pre>"
        scheme = request.query_params.get("scheme")
        if scheme in ("light", "dark"):  # an iframe cannot be told the reader's scheme: fix it
            body = _DARK_QUERY.sub("@media all" if scheme == "dark" else "@media not all", body)
        return HTMLResponse(body, headers={"Content-Security-Policy": EMAIL_POLICY})

    async def sources(self, request: Request) -> Response:
        states = self.state.runtime.store.all_source_states()
        rows = [states.get(s.location) for s in self.state.runtime.sources.sources]
        pairs = list(zip(self.state.runtime.sources.sources, rows, strict=True))
        return self.page("sources.html.j2", title="Sources", sources=pairs)

    # --- subscriber pages

    async def archive(self, request: Request) -> Response:
        edition = request.path_params["edition"]
        subscriber, problem = self._from_token(request, "view")
        if problem is not None:
            return problem
        assert subscriber is not None
        store = self.state.runtime.store
        record = (
            store.send_record(subscriber.email, edition) if _EDITION.fullmatch(edition) else None
        )
        if record is None or record.state is not SendState.SENT:
            return self.not_found("This edition is not in the archive.")
        html = html_part(store.message_of(record)) or "<p>This digest was sent as plain text.</p>"
        return HTMLResponse(html, headers={"Content-Security-Policy": EMAIL_POLICY})

    async def unsubscribe(self, request: Request) -> Response:
        subscriber, problem = self._from_token(request, "unsubscribe")
        if problem is not None:
            return problem
        assert subscriber is not None
        store, now, key = (
            self.state.runtime.store,
            self.state.runtime.clock(),
            self._key(subscriber),
        )
        if request.method == "GET":  # a GET never changes anything: a button does
            form = self.forms.issue("unsubscribe", key, now)
            done = subscriber.email.lower() in store.suppressed()
            return self.page("unsubscribe.html.j2", title="Unsubscribe", form=form, done=done,
                             subscriber=subscriber, newsletter=self._newsletter())  # fmt: skip
        body = (await request.body()).decode("utf-8", "replace")
        fields = await request.form() if "csrf=" in body else None
        one_click = body.strip() == ONE_CLICK  # RFC 8058: the mailbox provider posts this
        if not one_click and not self._spend(fields, "unsubscribe", key, now):
            return self.form_expired()
        store.suppress(subscriber.email, UNSUBSCRIBED, "one-click" if one_click else "web", now)
        text = f"{subscriber.email} will get no more digests from {self._newsletter()}."
        return self.message(200, "Unsubscribed", text)

    async def manage(self, request: Request) -> Response:
        subscriber, problem = self._from_token(request, "manage")
        if problem is not None:
            return problem
        assert subscriber is not None
        runtime, now, key = self.state.runtime, self.state.runtime.clock(), self._key(subscriber)
        topics = runtime.sources.topics
        saved, error = False, ""
        if request.method == "POST":
            fields = await request.form()
            if not self._spend(fields, "manage", key, now):
                return self.form_expired()
            chosen = tuple(t.name for t in topics if fields.get(f"topic-{t.name}") == "on")
            if chosen:
                runtime.store.choose_topics(subscriber.email, chosen, now)
                self.state.update(runtime)
                subscriber = self.state.subscriber(key) or subscriber
                saved = True
            else:
                error = "Choose at least one topic, or unsubscribe instead."
        form = self.forms.issue("manage", key, now)
        return self.page("manage.html.j2", title="Your topics", subscriber=subscriber,
                         topics=topics, form=form, saved=saved, error=error,
                         newsletter=self._newsletter())  # fmt: skip

    async def stylesheet(self, request: Request) -> Response:
        css = (BUNDLED_TEMPLATES / "web" / "web.css").read_text(encoding="utf-8")
        return PlainTextResponse(css, media_type="text/css")

    # --- helpers

    def page(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.pages.get_template(name).render(context), status)

    def message(self, status: int, title: str, text: str) -> HTMLResponse:
        return self.page("message.html.j2", status, title=title, text=text)

    def not_found(self, text: str = "No such page.") -> HTMLResponse:
        return self.message(404, "Not found", text)

    def form_expired(self) -> HTMLResponse:
        return self.message(403, "Form expired", "This form was used or has expired; reload it.")

    def _from_token(
        self, request: Request, purpose: str
    ) -> tuple[Subscriber | None, Response | None]:
        check = check_token(self.state.secret, request.path_params["token"], purpose,
                            self.state.runtime.clock())  # fmt: skip
        if check.problem is TokenProblem.EXPIRED:
            text = "This link has expired; use the one in a newer digest."
            return None, self.message(410, "Link expired", text)
        subscriber = self.state.subscriber(check.key) if check.problem is None else None
        if subscriber is None:
            text = "This link is not valid. Use the link in your digest."
            return None, self.message(403, "Invalid link", text)
        return subscriber, None

    def _spend(self, fields: Any, purpose: str, key: str, now: datetime) -> bool:
        token = str(fields.get("csrf", "")) if fields is not None else ""
        checked = self.forms.check(token, purpose, key, now)
        return checked is not None and self.state.runtime.store.use_form(*checked, now)

    def _next_edition(self, subscriber: Subscriber) -> Edition:
        runtime = self.state.runtime
        labels = runtime.send_context.labels
        return next_edition(subscriber, runtime.store, labels, runtime.settings, runtime.clock())

    def _key(self, subscriber: Subscriber) -> str:
        return self.state.key_of(subscriber)

    def _newsletter(self) -> str:
        return self.state.runtime.settings.newsletter_name

    def _subscriber_row(self, subscriber: Subscriber, now: datetime, last_sent: dict[str, datetime],
                        suppressed: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
        slot = next_slot(subscriber, now)
        return {
            "subscriber": subscriber, "key": self._key(subscriber), "next_utc": slot.at,
            "last_sent": last_sent.get(subscriber.email.lower()),
            "suppressed": suppressed.get(subscriber.email.lower()),
        }  # fmt: skip
