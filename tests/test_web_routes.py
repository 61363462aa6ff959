"""Every page of the web app, in process (httpx against the ASGI app): status codes, token
cases, forms, modes and headers."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from starlette.types import ASGIApp

from digest.deliver import MemoryMailer
from digest.dispatch import send_digests
from digest.links import signed_token
from digest.runtime import Runtime, open_runtime
from digest.web.app import create_app

from .conftest import NOW, REPO, open_sample_runtime, sample_edition
from .test_cli import run, sample_env

T = TypeVar("T")
ADA = "ada@example.com"
ONE_CLICK = {"content": b"List-Unsubscribe=One-Click",
             "headers": {"content-type": "application/x-www-form-urlencoded"}}  # fmt: skip


class AppClient:
    """httpx against the ASGI app, for synchronous tests: the app's event loop runs on a
    thread of its own (the browser tests drive Chromium from this thread's loop)."""

    def __init__(self, app: ASGIApp) -> None:
        transport = httpx.ASGITransport(app=app)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://test")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self._run(self._client.get(url, **options))

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self._run(self._client.post(url, **options))

    def __enter__(self) -> AppClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._run(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(30)


def client_for(runtime: Runtime, **options: Any) -> AppClient:
    return AppClient(create_app(runtime, **options))


@pytest.fixture
def client(sample_runtime: Runtime) -> Iterator[AppClient]:
    with client_for(sample_runtime) as made:
        yield made


def token(runtime: Runtime, purpose: str, email: str = ADA, days: int = 30) -> str:
    secret = runtime.settings.secret
    return signed_token(secret, email, purpose, NOW + timedelta(days=days))


def preview_key(client: AppClient, email: str = ADA) -> str:
    index = (client.get("/")).text
    row = next(line for line in index.splitlines() if email in line)
    following = index[index.index(row) :]
    return re.search(r"/preview/([0-9a-f]+)", following)[1]  # type: ignore[index]


def csrf_of(client: AppClient, path: str) -> str:
    page = (client.get(path)).text
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]  # type: ignore[index]


def test_every_admin_page_answers_locally(client: AppClient) -> None:
    key = preview_key(client)

    index = client.get("/")
    preview = client.get(f"/preview/{key}?width=phone&scheme=dark")
    email = client.get(f"/preview/{key}/email.html")
    sources = client.get("/sources")
    css = client.get("/static/web.css")

    assert [r.status_code for r in (index, preview, email, sources, css)] == [200] * 5
    assert {"ada@example.com", "grace@example.org", "kenji@example.net"} <= set(
        re.findall(r"[\w.]+@example\.\w+", index.text)
    )
    assert 'class="email phone dark"' in preview.text and "List-Unsubscribe" in preview.text
    assert "Unsubscribe: http" in preview.text  # the plain-text part, as sent
    assert email.headers["content-security-policy"].startswith("sandbox")
    assert "<mjml" not in email.text and "<table" in email.text
    assert "Northern Ledger" in sources.text
    assert css.headers["content-type"].startswith("text/css")


def test_every_response_carries_the_security_headers(client: AppClient) -> None:
    for path in ("/", "/sources", "/no-such-page", f"/unsubscribe/{'x' * 10}"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy, path
        assert response.headers["x-content-type-options"] == "nosniff"


def test_an_unknown_subscriber_key_is_not_found(client: AppClient) -> None:
    assert (client.get("/preview/0123456789abcdef01234567")).status_code == 404
    assert (client.get("/preview/0123456789abcdef01234567/email.html")).status_code == 404


def test_unsubscribe_get_shows_a_button_and_changes_nothing(
    client: AppClient, sample_runtime: Runtime
) -> None:
    page = client.get(f"/unsubscribe/{token(sample_runtime, 'unsubscribe')}")

    assert page.status_code == 200 and '<button type="submit">Unsubscribe</button>' in page.text
    assert sample_runtime.store.suppressed() == {}


def test_one_click_post_unsubscribes_and_a_replay_changes_nothing_more(
    client: AppClient, sample_runtime: Runtime
) -> None:
    path = f"/unsubscribe/{token(sample_runtime, 'unsubscribe')}"

    first = client.post(path, **ONE_CLICK)
    replay = client.post(path, **ONE_CLICK)
    again = client.get(path)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert list(sample_runtime.store.suppressed()) == [ADA]
    assert sample_runtime.store.suppressed()[ADA].detail == "one-click"
    assert "already unsubscribed" in again.text


def test_the_unsubscribe_button_needs_its_one_time_form_token(
    client: AppClient, sample_runtime: Runtime
) -> None:
    path = f"/unsubscribe/{token(sample_runtime, 'unsubscribe')}"
    csrf = csrf_of(client, path)

    missing = client.post(path, data={"csrf": "0.0.0"})
    other_form = client.post(
        path, data={"csrf": csrf_of(client, f"/manage/{token(sample_runtime, 'manage')}")}
    )
    assert (missing.status_code, other_form.status_code) == (403, 403)
    assert sample_runtime.store.suppressed() == {}
    done = client.post(path, data={"csrf": csrf})
    assert done.status_code == 200 and ADA in sample_runtime.store.suppressed()


@pytest.mark.parametrize("case", ["forged", "other secret", "wrong purpose", "expired", "garbage"])
def test_bad_tokens_are_refused(client: AppClient, sample_runtime: Runtime, case: str) -> None:
    good = token(sample_runtime, "unsubscribe")
    bad = {
        "forged": good[:-1] + ("0" if good[-1] != "0" else "1"),
        "other secret": signed_token("not-the-secret", ADA, "unsubscribe", NOW + timedelta(days=9)),
        "wrong purpose": token(sample_runtime, "manage"),
        "expired": token(sample_runtime, "unsubscribe", days=-1),
        "garbage": "ada@example.com",
    }[case]

    get = client.get(f"/unsubscribe/{bad}")
    post = client.post(f"/unsubscribe/{bad}", **ONE_CLICK)

    expected = 410 if case == "expired" else 403
    assert (get.status_code, post.status_code) == (expected, expected)
    assert sample_runtime.store.suppressed() == {}


def test_manage_saves_topics_that_later_sends_honour(
    client: AppClient, sample_runtime: Runtime, tmp_path: Path
) -> None:
    path = f"/manage/{token(sample_runtime, 'manage')}"
    csrf = csrf_of(client, path)

    saved = client.post(path, data={"csrf": csrf, "topic-science": "on"})
    replay = client.post(path, data={"csrf": csrf, "topic-business": "on"})
    empty = client.post(path, data={"csrf": csrf_of(client, path)})

    assert saved.status_code == 200 and "Saved" in saved.text
    assert (
        replay.status_code == 403
        and empty.status_code == 200
        and "at least one topic" in empty.text
    )
    assert sample_runtime.store.topic_choices() == {ADA: ("science",)}
    reopened = open_runtime(sample_runtime.settings, clock=lambda: NOW)
    try:  # a fresh start (a reload of subscribers.yaml) keeps the choice
        ada = next(s for s in reopened.subscribers if s.email == ADA)
        edition = sample_edition(reopened)
    finally:
        reopened.close()
    assert ada.topics == ("science",)
    assert {section.topic for section in edition.sections} == {"science"}


def test_the_archive_shows_a_sent_edition_and_nothing_else(
    client: AppClient, sample_runtime: Runtime
) -> None:
    ada = next(s for s in sample_runtime.subscribers if s.email == ADA)
    send_digests([ada], sample_runtime.send_context, MemoryMailer)
    view = token(sample_runtime, "view")

    sent = client.get(f"/archive/2026-11-26/{view}")
    unknown = client.get(f"/archive/2026-11-20/{view}")
    dotted = client.get(f"/archive/..%2F..%2Fetc%2Fpasswd/{view}")
    wrong = client.get(f"/archive/2026-11-26/{token(sample_runtime, 'unsubscribe')}")

    assert sent.status_code == 200 and "<table" in sent.text
    assert sent.headers["content-security-policy"].startswith("sandbox")
    assert [r.status_code for r in (unknown, dotted, wrong)] == [404, 404, 403]


def test_public_mode_hides_the_admin_pages(sample_runtime: Runtime) -> None:
    with client_for(sample_runtime, public=True) as public:
        admin = [public.get(p) for p in ("/", "/sources", "/preview/00")]
        unsubscribe = public.get(f"/unsubscribe/{token(sample_runtime, 'unsubscribe')}")

    assert [r.status_code for r in admin] == [404, 404, 404]
    assert unsubscribe.status_code == 200


def test_public_mode_with_a_password_asks_for_it(sample_runtime: Runtime) -> None:
    with client_for(sample_runtime, public=True, admin_password="s3cret horse") as public:
        anonymous = public.get("/")
        wrong = public.get("/", auth=("admin", "guess"))
        right = public.get("/", auth=("admin", "s3cret horse"))

    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["www-authenticate"]
    assert (wrong.status_code, right.status_code) == (401, 200)


def test_serve_refuses_to_show_admin_pages_to_the_network(tmp_path: Path) -> None:
    result = run(["serve", "--host", "0.0.0.0"], sample_env(tmp_path), tmp_path)

    assert result.returncode == 2
    assert "DIGEST_WEB_PUBLIC" in result.stderr


def test_links_never_show_the_address(sample_runtime: Runtime) -> None:
    text = sample_runtime.send_context.composer.render(sample_edition(sample_runtime)).text
    links = re.findall(r"https://digest\.example\.com/(?:unsubscribe|manage|archive)/\S+", text)

    assert len(links) == 3
    assert all("ada" not in link and "YWRh" not in link for link in links)


def test_template_edits_show_in_the_preview_without_a_restart(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    (tmp_path / "data").mkdir()
    runtime = open_sample_runtime(tmp_path / "data", DIGEST_TEMPLATES_DIR=str(templates))
    try:
        with client_for(runtime) as client:
            key = preview_key(client)
            before = client.get(f"/preview/{key}/email.html")
            footer = templates / "partials" / "footer.mjml.j2"
            footer.write_text(footer.read_text().replace("Manage topics", "Choose your topics"))
            after = client.get(f"/preview/{key}/email.html")
            text = client.get(f"/preview/{key}")
    finally:
        runtime.close()

    assert "Manage topics" in before.text and "Choose your topics" not in before.text
    assert "Choose your topics" in after.text
    assert "Manage topics: http" in text.text  # the text template was not changed
