"""The one error tree: library code raises these; only the CLI turns them into exit codes."""

from __future__ import annotations

from pathlib import Path


class DigestError(Exception):
    """Base of every error a user can act on."""


class ConfigError(DigestError):
    """Invalid configuration: names the file, the line and what to fix."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


class SourceError(DigestError):
    """One source (feed or article file) could not be read; the run goes on without it."""

    def __init__(self, location: str, message: str, line: int | None = None) -> None:
        where = f"{location}:{line}" if line else location
        super().__init__(f"{where}: {message}")
        self.location = location
        self.line = line


class TemplateError(DigestError):
    """A template failed to render: names the template and line."""


class DeliveryError(DigestError):
    """A message could not be delivered.

    `permanent` is True when the server refused it for good (5xx), False when a later
    attempt may succeed (4xx, dropped connection, timeout).
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent
