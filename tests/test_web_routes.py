"""Every page of the web app, in process (httpx against the ASGI app): status codes, token
cases, forms, modes and headers."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from digest.deliver import MemoryMailer
from digest.dispatch import send_digests
from digest.links import signed_token
from digest.runtime import Runtime, open_runtime
from digest.web.app import create_app

from .conftest import NOW, REPO, open_sample_runtime, sample_edition
from .test_cli import run, sample_env

pytestmark = pytest.mark.anyio
ADA = "ada@example.com"
ONE_CLICK = {"content": b"List-Unsubscribe=One-Click",
             "headers": {"content-type": "application/x-www-form-urlencoded"}}  # fmt: skip


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client_for(runtime: Runtime, **options: object) -> httpx.AsyncClient:
    app = create_app(runtime, **options)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def client(sample_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sample_runtime) as made:
        yield made


def token(runtime: Runtime, purpose: str, email: str = ADA, days: int = 30) -> str:
    secret = runtime.settings.secret
    return signed_token(secret, email, purpose, NOW + timedelta(days=days))


async def preview_key(client: httpx.AsyncClient, email: str = ADA) -> str:
    index = (await client.get("/")).text
    row = next(line for line in index.splitlines() if email in line)
    following = index[index.index(row) :]
    return re.search(r"/preview/([0-9a-f]+)", following)[1]  # type: ignore[index]


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = (await client.get(path)).text
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]  # type: ignore[index]


async def test_every_admin_page_answers_locally(client: httpx.AsyncClient) -> None:
    key = await preview_key(client)

    index = await client.get("/")
    preview = await client.get(f"/preview/{key}?width=phone&scheme=dark")
    email = await client.get(f"/preview/{key}/email.html")
    sources = await client.get("/sources")
    css = await client.get("/static/web.css")

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


async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/", "/sources", "/no-such-page", f"/unsubscribe/{'x' * 10}"):
        response = await client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy, path
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_an_unknown_subscriber_key_is_not_found(client: httpx.AsyncClient) -> None:
    assert (await client.get("/preview/0123456789abcdef01234567")).status_code == 404
    assert (await client.get("/preview/0123456789abcdef01234567/email.html")).status_code == 404


async def test_unsubscribe_get_shows_a_button_and_changes_nothing(
    client: httpx.AsyncClient, sample_runtime: Runtime
) -> None:
    page = await client.get(f"/unsubscribe/{token(sample_runtime, 'unsubscribe')}")

    assert page.status_code == 200 and '<button type="submit">Unsubscribe</button>' in page.text
    assert sample_runtime.store.suppressed() == {}


async def test_one_click_post_unsubscribes_and_a_replay_changes_nothing_more(
    client: httpx.AsyncClient, sample_runtime: Runtime
) -> None:
    path = f"/unsubscribe/{token(sample_runtime, 'unsubscribe')}"

    first = await client.post(path, **ONE_CLICK)  # type: ignore[arg-type]
    replay = await client.post(path, **ONE_CLICK)  # type: ignore[arg-type]
    again = await client.get(path)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert list(sample_runtime.store.suppressed()) == [ADA]
    assert sample_runtime.store.suppressed()[ADA].detail == "one-click"
    assert "already unsubscribed" in again.text


async def test_the_unsubscribe_button_needs_its_one_time_form_token(
    client: httpx.AsyncClient, sample_runtime: Runtime
) -> None:
    path = f"/unsubscribe/{token(sample_runtime, 'unsubscribe')}"
    csrf = await csrf_of(client, path)

    missing = await client.post(path, data={"csrf": "0.0.0"})
    other_form = await client.post(
        path, data={"csrf": await csrf_of(client, f"/manage/{token(sample_runtime, 'manage')}")}
    )
    assert (missing.status_code, other_form.status_code) == (403, 403)
    assert sample_runtime.store.suppressed() == {}
    done = await client.post(path, data={"csrf": csrf})
    assert done.status_code == 200 and ADA in sample_runtime.store.suppressed()


@pytest.mark.parametrize("case", ["forged", "other secret", "wrong purpose", "expired", "garbage"])
async def test_bad_tokens_are_refused(
    client: httpx.AsyncClient, sample_runtime: Runtime, case: str
) -> None:
    good = token(sample_runtime, "unsubscribe")
    bad = {
        "forged": good[:-1] + ("0" if good[-1] != "0" else "1"),
        "other secret": signed_token("not-the-secret", ADA, "unsubscribe", NOW + timedelta(days=9)),
        "wrong purpose": token(sample_runtime, "manage"),
        "expired": token(sample_runtime, "unsubscribe", days=-1),
        "garbage": "ada@example.com",
    }[case]

    get = await client.get(f"/unsubscribe/{bad}")
    post = await client.post(f"/unsubscribe/{bad}", **ONE_CLICK)  # type: ignore[arg-type]

    expected = 410 if case == "expired" else 403
    assert (get.status_code, post.status_code) == (expected, expected)
    assert sample_runtime.store.suppressed() == {}


async def test_manage_saves_topics_that_later_sends_honour(
    client: httpx.AsyncClient, sample_runtime: Runtime, tmp_path: Path
) -> None:
    path = f"/manage/{token(sample_runtime, 'manage')}"
    csrf = await csrf_of(client, path)

    saved = await client.post(path, data={"csrf": csrf, "topic-science": "on"})
    replay = await client.post(path, data={"csrf": csrf, "topic-business": "on"})
    empty = await client.post(path, data={"csrf": await csrf_of(client, path)})

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


async def test_the_archive_shows_a_sent_edition_and_nothing_else(
    client: httpx.AsyncClient, sample_runtime: Runtime
) -> None:
    ada = next(s for s in sample_runtime.subscribers if s.email == ADA)
    send_digests([ada], sample_runtime.send_context, MemoryMailer)
    view = token(sample_runtime, "view")

    sent = await client.get(f"/archive/2026-11-26/{view}")
    unknown = await client.get(f"/archive/2026-11-20/{view}")
    dotted = await client.get(f"/archive/..%2F..%2Fetc%2Fpasswd/{view}")
    wrong = await client.get(f"/archive/2026-11-26/{token(sample_runtime, 'unsubscribe')}")

    assert sent.status_code == 200 and "<table" in sent.text
    assert sent.headers["content-security-policy"].startswith("sandbox")
    assert [r.status_code for r in (unknown, dotted, wrong)] == [404, 404, 403]


async def test_public_mode_hides_the_admin_pages(sample_runtime: Runtime) -> None:
    async with client_for(sample_runtime, public=True) as public:
        admin = [await public.get(p) for p in ("/", "/sources", "/preview/00")]
        unsubscribe = await public.get(f"/unsubscribe/{token(sample_runtime, 'unsubscribe')}")

    assert [r.status_code for r in admin] == [404, 404, 404]
    assert unsubscribe.status_code == 200


async def test_public_mode_with_a_password_asks_for_it(sample_runtime: Runtime) -> None:
    async with client_for(sample_runtime, public=True, admin_password="s3cret horse") as public:
        anonymous = await public.get("/")
        wrong = await public.get("/", auth=("admin", "guess"))
        right = await public.get("/", auth=("admin", "s3cret horse"))

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


async def test_template_edits_show_in_the_preview_without_a_restart(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    (tmp_path / "data").mkdir()
    runtime = open_sample_runtime(tmp_path / "data", DIGEST_TEMPLATES_DIR=str(templates))
    try:
        async with client_for(runtime) as client:
            key = await preview_key(client)
            before = await client.get(f"/preview/{key}/email.html")
            footer = templates / "partials" / "footer.mjml.j2"
            footer.write_text(footer.read_text().replace("Manage topics", "Choose your topics"))
            after = await client.get(f"/preview/{key}/email.html")
            text = await client.get(f"/preview/{key}")
    finally:
        runtime.close()

    assert "Manage topics" in before.text and "Choose your topics" not in before.text
    assert "Choose your topics" in after.text
    assert "Manage topics: http" in text.text  # the text template was not changed
