"""Read one configured source, remembering what is needed to skip unchanged feeds."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import httpx

from digest.errors import SourceError
from digest.sourcelist import SourceConfig
from digest.sources.feeds import parse_feed
from digest.sources.fetch import FetchPolicy, HostGate, Validators, fetch_feed
from digest.sources.folder import read_folder
from digest.sources.result import SourceResult, TopicMapper
from digest.store import SourceState


@dataclass(frozen=True)
class ReadContext:
    client: httpx.Client
    gate: HostGate
    policy: FetchPolicy
    map_topics: TopicMapper
    now: datetime
    file_stamps: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceRead:
    result: SourceResult
    state: SourceState  # to store for next time
    status: str  # "read", "unchanged", "retired" or "failed"


def read_source(source: SourceConfig, state: SourceState, ctx: ReadContext) -> SourceRead:
    """Read a folder, a feed file or a feed URL; a failure is reported, never raised."""
    try:
        if source.kind == "folder":
            return _done(read_folder(source, ctx.map_topics, ctx.file_stamps), state, ctx.now)
        if source.is_url:
            return _read_url(source, state, ctx)
        return _read_file(source, state, ctx)
    except SourceError as error:
        return _failed(SourceResult(source.name, errors=[error]), state, ctx.now)
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
        # e.g. a corrupt gzip body or an unusable URL: this source fails, the run goes on
        problem = SourceError(source.location, f"could not be read ({type(exc).__name__}: {exc}).")
        return _failed(SourceResult(source.name, errors=[problem]), state, ctx.now)


def _read_file(source: SourceConfig, state: SourceState, ctx: ReadContext) -> SourceRead:
    data = _file_bytes(Path(source.location), ctx.policy.max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if digest == state.content_hash:
        return SourceRead(SourceResult(source.name), _success(state, ctx.now), "unchanged")
    articles = parse_feed(data, source, ctx.map_topics, ctx.now)
    read = _done(SourceResult(source.name, articles), state, ctx.now)
    return replace(read, state=replace(read.state, content_hash=digest))


def _file_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        message = f"cannot read the feed file ({exc.strerror}); fix `feed:` in the sources file."
        raise SourceError(str(path), message) from exc
    if len(data) > max_bytes:
        raise SourceError(str(path), f"feed is larger than {max_bytes} bytes; it was skipped.")
    return data


def _read_url(source: SourceConfig, state: SourceState, ctx: ReadContext) -> SourceRead:
    if state.retired:
        return _retired(source, state)
    policy = replace(ctx.policy, allow_private=source.allow_private)
    validators = Validators(state.etag, state.last_modified)
    fetched = fetch_feed(
        state.fetch_url or source.location, ctx.client, validators, policy, ctx.gate
    )
    if fetched.status == "gone":
        gone = replace(
            state, retired=True, last_error="410 Gone", last_error_at=ctx.now.isoformat()
        )
        return _retired(source, gone)
    state = replace(
        state, etag=fetched.validators.etag, last_modified=fetched.validators.last_modified,
        fetch_url=fetched.moved_to or state.fetch_url,
    )  # fmt: skip
    if fetched.status == "unchanged":
        return SourceRead(SourceResult(source.name), _success(state, ctx.now), "unchanged")
    articles = parse_feed(fetched.data, source, ctx.map_topics, ctx.now)
    return _done(SourceResult(source.name, articles), state, ctx.now)


def _retired(source: SourceConfig, state: SourceState) -> SourceRead:
    message = "the server said 410 Gone: the feed is retired; remove it from the sources file."
    result = SourceResult(source.name, errors=[SourceError(source.location, message)])
    return SourceRead(result, state, "retired")


def _done(result: SourceResult, state: SourceState, now: datetime) -> SourceRead:
    if result.errors and not result.articles:
        return _failed(result, state, now)
    state = _success(state, now)
    if result.errors:  # some files of a folder could not be read
        state = replace(state, last_error=str(result.errors[0]), last_error_at=now.isoformat())
    return SourceRead(result, state, "read")


def _success(state: SourceState, now: datetime) -> SourceState:
    return replace(state, last_success=now.isoformat(), failures=0)


def _failed(result: SourceResult, state: SourceState, now: datetime) -> SourceRead:
    error = str(result.errors[0]) if result.errors else "unknown error"
    failed = replace(
        state, last_error=error, last_error_at=now.isoformat(), failures=state.failures + 1
    )
    return SourceRead(result, failed, "failed")
