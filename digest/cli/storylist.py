"""The `stories` command: today's stories as JSON, for users' own scripts."""

from __future__ import annotations

import json
import sys
from typing import Any

from digest.cli.collecting import parse_since
from digest.cli.exits import EXIT_OK
from digest.editions import stories_since
from digest.models import Story
from digest.ranking import rank_key
from digest.runtime import Runtime


def stories_command(runtime: Runtime, since: str | None, topic: str | None) -> int:
    """Stories of the articles collected after `since` (default: all recent ones)."""
    start = parse_since(since) if since else None
    stories = stories_since(runtime.store, runtime.settings, runtime.clock(), start)
    chosen = sorted((s for s in stories if not topic or topic in s.topics), key=rank_key)
    json.dump([story_json(s) for s in chosen], sys.stdout, ensure_ascii=False, indent=2)
    print()
    return EXIT_OK


def story_json(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "topic": story.topic,
        "topics": list(story.topics),
        "headline": story.lead.title,
        "url": story.lead.url,
        "source": story.lead.source,
        "published": story.lead.published.isoformat(),
        "summary": story.summary,
        "articles": [
            {"id": a.id, "url": a.url, "source": a.source, "title": a.title} for a in story.articles
        ],
        "also_covered_by": [
            {"source": a.source, "url": a.url, "title": a.title} for a in story.also
        ],
        "related": [
            {"kind": r.kind, "title": r.title, "url": r.url, "source": r.source}
            for r in story.related
        ],
    }
