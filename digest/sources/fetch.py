"""Polite HTTP for feeds: conditional GET, redirects checked hop by hop, retries, limits."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from digest.errors import SourceError
from digest.sources.netguard import check_public_url

USER_AGENT = "digest/0.1 (self-hosted newsletter digest; feed reader)"
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = {301, 308}
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = 10_000_000
    retries: int = 2  # extra attempts after a 429, 5xx, timeout or dropped connection
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    max_wait: float = 60.0  # longest wait honoured from a Retry-After header
    allow_private: bool = False


@dataclass(frozen=True)
class Validators:
    """What the server told us last time, sent back so an unchanged feed costs a 304."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, br"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class Fetched:
    status: str  # "fetched", "unchanged" (304) or "gone" (410)
    data: bytes = b""
    validators: Validators = Validators()
    moved_to: str = ""  # the new address when every redirect hop was permanent
    attempts: int = 1


class HostGate:
    """At most one request at a time per host, and a pause between them."""

    def __init__(self, delay: float, sleep: Sleep = time.sleep) -> None:
        self.delay = delay
        self.sleep = sleep
        self._locks: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}
        self._guard = threading.Lock()

    def request(self, url: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        host = urlsplit(url).netloc.lower()
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            wait = self._last.get(host, -1e9) + self.delay - time.monotonic()
            if wait > 0:
                self.sleep(wait)
            try:
                return send()
            finally:
                self._last[host] = time.monotonic()


def fetch_feed(
    url: str,
    client: httpx.Client,
    validators: Validators,
    policy: FetchPolicy,
    gate: HostGate,
) -> Fetched:
    """GET a feed; retry what may pass, report what will not, never parse a 304."""
    for attempt in range(1, policy.retries + 2):
        try:
            response, data, moved_to = _get(url, client, validators, policy, gate)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            if attempt > policy.retries:
                reason = f"{type(exc).__name__} after {attempt} attempts; will retry next run"
                raise SourceError(url, reason) from exc
            gate.sleep(_backoff(policy, attempt))
            continue
        if response.status_code in RETRYABLE_STATUS and attempt <= policy.retries:
            gate.sleep(_retry_after(response, policy) or _backoff(policy, attempt))
            continue
        return _outcome(url, response, data, moved_to, attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _outcome(
    url: str, response: httpx.Response, data: bytes, moved_to: str, attempt: int
) -> Fetched:
    status = response.status_code
    if status == 304:
        return Fetched("unchanged", validators=_validators(response), attempts=attempt)
    if status == 410:
        return Fetched("gone", attempts=attempt)
    if status != 200:
        tries = f" after {attempt} attempts" if attempt > 1 else ""
        raise SourceError(url, f"HTTP {status}{tries}; check the feed URL or try again later.")
    return Fetched("fetched", data, _validators(response), moved_to, attempt)


def _get(
    url: str, client: httpx.Client, validators: Validators, policy: FetchPolicy, gate: HostGate
) -> tuple[httpx.Response, bytes, str]:
    """Follow up to five redirects by hand, so each hop is checked for private addresses."""
    permanent, hops = True, 0
    for _ in range(MAX_REDIRECTS + 1):
        if not policy.allow_private:
            check_public_url(url)
        request = client.build_request("GET", url, headers=validators.headers())
        response = gate.request(url, functools.partial(client.send, request, stream=True))
        try:
            if response.is_redirect and "location" in response.headers:
                permanent = permanent and response.status_code in PERMANENT_REDIRECTS
                url, hops = urljoin(url, response.headers["location"]), hops + 1
                continue
            ok = response.status_code == 200
            data = _read_limited(response, url, policy.max_bytes) if ok else b""
        finally:
            response.close()
        return response, data, url if permanent and hops else ""
    raise SourceError(url, f"more than {MAX_REDIRECTS} redirects; fix the feed URL.")


def _read_limited(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise SourceError(url, f"feed is larger than {max_bytes} bytes; it was skipped.")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():  # decompressed: a gzip bomb stops here too
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(url, f"feed is larger than {max_bytes} bytes; it was skipped.")
        chunks.append(chunk)
    return b"".join(chunks)


def _validators(response: httpx.Response) -> Validators:
    return Validators(response.headers.get("etag", ""), response.headers.get("last-modified", ""))


def _retry_after(response: httpx.Response, policy: FetchPolicy) -> float:
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return min(float(value), policy.max_wait)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, min(when.timestamp() - time.time(), policy.max_wait))


def _backoff(policy: FetchPolicy, attempt: int) -> float:
    """Exponential, with jitter so that many feeds on one host do not retry in step."""
    base = policy.backoff * 2.0 ** (attempt - 1)
    jitter: float = random.uniform(0, base / 2)
    return base + jitter
