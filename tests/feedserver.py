"""A real HTTP server for feed tests, with the behaviours publishers' servers really have."""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import brotli


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    etag: str = ""  # answer 304 when the client sends it back
    last_modified: str = ""  # answer 304 when the client sends it back
    encoding: str = ""  # "gzip" or "br"
    location: str = ""  # a redirect target, with `status` 301/302/307/308
    fail_first: list[int] = field(default_factory=list)  # statuses before success
    retry_after: str = ""
    delay: float = 0.0


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.headers_seen: list[dict[str, str]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FeedServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits[self.path] += 1
        self.server.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        route = self.server.routes.get(self.path)
        if route is None:
            return self._reply(404, b"not found")
        if route.fail_first:
            status = route.fail_first.pop(0)
            extra = {"Retry-After": route.retry_after} if route.retry_after else {}
            return self._reply(status, b"try later", extra)
        time.sleep(route.delay)
        if route.location:
            return self._reply(route.status, b"", {"Location": route.location})
        if self._not_modified(route):
            return self._reply(304, b"")
        self._send_body(route)

    def _not_modified(self, route: Route) -> bool:
        etag_match = route.etag and self.headers.get("If-None-Match") == route.etag
        date_match = (
            route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified
        )
        return bool(etag_match or date_match)

    def _send_body(self, route: Route) -> None:
        headers = {"Content-Type": "application/rss+xml"}
        body = route.body
        if route.encoding == "broken-gzip":
            headers["Content-Encoding"] = "gzip"  # and a body that is not gzip at all
        elif route.encoding == "gzip":
            body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
        elif route.encoding == "br":
            body, headers["Content-Encoding"] = brotli.compress(body), "br"
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        self._reply(route.status, body, headers)

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)  # the client may have given up (a timeout test)


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
