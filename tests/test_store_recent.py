"""The recent-articles query answers from memory only while the table is unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from digest.models import Article
from digest.store import Store

from .conftest import NOW
from .editions import article


def numbered(number: int) -> Article:
    """An article of its own (short text: never taken for a copy of another)."""
    return replace(article("world", number, "Civic Wire", NOW), text=f"Story {number}.")


def test_a_narrower_window_is_answered_like_a_fresh_query(tmp_path: Path) -> None:
    store = Store(tmp_path / "digest.db")
    for hour in range(6):
        store.save_articles([numbered(hour)], NOW + timedelta(hours=hour))

    wide = store.articles_seen_after(NOW)
    narrow = store.articles_seen_after(NOW + timedelta(hours=2, minutes=30))

    assert [a.id for a in wide] == [f"world-{h}-civic-wire" for h in range(1, 6)]
    assert [a.id for a in narrow] == [
        a.id
        for a in Store(tmp_path / "digest.db").articles_seen_after(
            NOW + timedelta(hours=2, minutes=30)
        )
    ]
    assert len(narrow) == 3
    assert len(store.articles_seen_after(None)) == 6


def test_writes_by_this_or_another_connection_are_seen(tmp_path: Path) -> None:
    store, other = Store(tmp_path / "digest.db"), Store(tmp_path / "digest.db")
    store.save_articles([numbered(1)], NOW)
    assert len(store.articles_seen_after(None)) == 1

    other.save_articles([numbered(2)], NOW)
    assert len(store.articles_seen_after(None)) == 2

    store.save_articles([numbered(3)], NOW)
    assert len(store.articles_seen_after(None)) == 3

    store.prune_articles(NOW + timedelta(days=1))
    assert store.articles_seen_after(None) == []
