"""Keep feed fetches away from loopback, private and link-local addresses."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from digest.errors import SourceError


def check_public_url(url: str) -> None:
    """Raise SourceError unless every address the URL's host resolves to is public."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SourceError(url, "only http:// and https:// feed URLs can be fetched.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SourceError(url, f"cannot resolve host `{parts.hostname}` ({exc.strerror}).") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise SourceError(
                url,
                f"host resolves to the non-public address {address}; if you trust this feed, "
                "set `allow_private: true` on the source.",
            )
