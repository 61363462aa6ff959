"""`serve`: the web app on a real server (uvicorn), on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import contextlib
import ipaddress
import signal

import uvicorn

from digest.cli.exits import EXIT_OK
from digest.errors import ConfigError
from digest.runtime import Runtime
from digest.web.app import create_app


def serve_command(runtime: Runtime, host: str, port: int, *, public: bool) -> int:
    settings = runtime.settings
    public = public or settings.web_public == "yes"
    if not public and not _is_loopback(host):
        message = (
            f"--host {host} would show the preview and admin pages to the network; "
            "set DIGEST_WEB_PUBLIC=yes (subscriber pages only, admin behind "
            "DIGEST_ADMIN_PASSWORD) or keep the default 127.0.0.1."
        )
        raise ConfigError("serve", None, message)
    app = create_app(runtime, public=public, admin_password=settings.admin_password)
    mode = "public: subscriber pages" if public else "local: previews and admin pages too"
    print(f"Serving on http://{host}:{port}/ ({mode}); stop with Ctrl-C.", flush=True)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for the
    # handler it found: a quiet one here, so a requested stop exits 0
    signal.signal(signal.SIGTERM, lambda *_: None)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=public)
    return EXIT_OK


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
