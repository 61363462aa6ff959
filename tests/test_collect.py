import os
import shutil
from dataclasses import replace
from datetime import timedelta

from digest.collect import canonical_url, collect
from digest.models import Article
from digest.runtime import Runtime

from .conftest import FIXTURES, NOW, Project


def test_collect_reads_folders_and_feeds_into_the_store(runtime: Runtime) -> None:
    report = collect(runtime.sources, runtime.store, runtime.settings, NOW)

    assert report.errors == ()
    assert report.new_articles == 6
    stored = {a.title: a for a in runtime.store.articles_seen_after(None)}
    keepers = stored["Last Lighthouse Keepers of Gull Point Hand Over to Automatic Beacon"]
    assert keepers.topics == ("coast",)
    assert keepers.source == "Bayside Courier"
    assert keepers.url == f"https://digest.bayside.example.com/articles/{keepers.id}"
    assert keepers.first_seen == NOW
    orchard = stored["Apple Growers Count a Record Harvest in the Brenn Valley"]
    assert orchard.topics == ("farming",)  # plain file: the folder's topic
    storm = stored["Storm Warning Issued for the Western Shore"]
    assert storm.topics == ("coast",)  # feed category "Weather" is an alias of coast


def test_collect_twice_stores_each_article_once_and_keeps_first_seen(runtime: Runtime) -> None:
    collect(runtime.sources, runtime.store, runtime.settings, NOW)
    later = NOW + timedelta(hours=2)

    report = collect(runtime.sources, runtime.store, runtime.settings, later)

    assert report.new_articles == 0
    articles = runtime.store.articles_seen_after(None)
    assert len(articles) == 6
    assert all(a.first_seen == NOW for a in articles)
    assert runtime.store.articles_seen_after(NOW) == []


def test_changed_article_is_updated_in_place(project: Project, runtime: Runtime) -> None:
    collect(runtime.sources, runtime.store, runtime.settings, NOW)
    path = project.root / "articles" / "new-pier.txt"
    path.write_text(path.read_text().replace("£6m", "£7m"), encoding="utf-8")

    collect(runtime.sources, runtime.store, runtime.settings, NOW + timedelta(hours=1))

    (pier,) = [a for a in runtime.store.articles_seen_after(None) if "Pier" in a.title]
    assert "£7m" in pier.standfirst
    assert pier.first_seen == NOW


def test_same_url_under_another_guid_is_stored_once(runtime: Runtime) -> None:
    base = Article(
        guid="a-1", url="https://x.example.com/story?utm_source=rss", title="T", text="Body.",
        source="X", published=NOW, topics=("coast",), id="id-a-1",
        canonical_url="https://x.example.com/story",
    )  # fmt: skip
    copy = replace(base, guid="b-2", id="id-b-2", url="https://X.example.com/story#comments")

    counts = runtime.store.save_articles([base, copy], NOW)

    assert (counts.new, counts.updated) == (1, 1)
    assert len(runtime.store.articles_seen_after(None)) == 1


def test_canonical_url_drops_tracking_and_fragment() -> None:
    url = "HTTPS://News.Example.com/a/b?id=7&utm_campaign=x&fbclid=abc&utm_source=rss#top"

    assert canonical_url(url) == "https://news.example.com/a/b?id=7"
    assert canonical_url("") == ""


def test_broken_file_and_feed_are_reported_and_the_rest_collected(
    project: Project, runtime: Runtime
) -> None:
    (project.root / "articles" / "empty.txt").write_text("", encoding="utf-8")
    (project.root / "articles" / "binary.txt").write_bytes(b"\x00\x01\x02")
    shutil.copy(FIXTURES / "feeds" / "broken.xml", project.root / "feeds" / "coast.rss.xml")

    report = collect(runtime.sources, runtime.store, runtime.settings, NOW)

    messages = [str(e) for e in report.errors]
    assert any("empty.txt:1" in m and "empty" in m for m in messages)
    assert any("binary.txt:1" in m for m in messages)
    assert any("coast.rss.xml" in m and "not a readable" in m for m in messages)
    assert len(messages) == 3
    titles = {a.title for a in runtime.store.articles_seen_after(None)}
    assert "Harbour Board Approves New Pier for Gull Point Ferries" in titles
    assert "Brenn Valley Apple Glut & Falling Prices" in titles


def test_article_naming_no_known_topic_is_placed_by_its_text(
    project: Project, runtime: Runtime
) -> None:
    path = project.root / "articles" / "orchard-fair.txt"
    path.write_text(
        "Harvest\n\nCider Makers Fill the Brenn Valley Barns\n\n"
        "Growers pressed a record apple crop into juice and cider.\nFarm Weekly\n\n"
        "Orchards across the valley sent their surplus apples to the cider barns, and growers "
        "say the harvest and the juice prices will shape next year's planting.\n",
        encoding="utf-8",
    )
    os.utime(path, (NOW.timestamp(), NOW.timestamp()))

    report = collect(runtime.sources, runtime.store, runtime.settings, NOW)

    assert report.errors == ()
    stored = {a.title: a.topics for a in runtime.store.articles_seen_after(None)}
    assert stored["Cider Makers Fill the Brenn Valley Barns"] == ("farming",)


def test_legacy_encoded_file_is_read(project: Project, runtime: Runtime) -> None:
    text = (
        "Coast\n\nCaf\u00e9 Reopens on the Promenade\n\n"
        "The caf\u00e9 is open.\nBayside Courier\n\nBody.\n"
    )
    (project.root / "articles" / "cafe.txt").write_bytes(text.encode("cp1252"))

    collect(runtime.sources, runtime.store, runtime.settings, NOW)

    titles = {a.title for a in runtime.store.articles_seen_after(None)}
    assert "Caf\u00e9 Reopens on the Promenade" in titles


def test_configured_keywords_add_topics(project: Project) -> None:
    sources = project.root / "sources.yaml"
    sources.write_text(
        sources.read_text().replace(
            "  farming:\n", "  farming:\n    keywords: [apple, Cheese Fair]\n"
        )
    )
    runtime = project.runtime()
    try:
        collect(runtime.sources, runtime.store, runtime.settings, NOW)
        stored = {a.title: a.topics for a in runtime.store.articles_seen_after(None)}
    finally:
        runtime.close()

    assert stored["Apple Growers Count a Record Harvest in the Brenn Valley"] == ("farming",)
    assert stored["Last Lighthouse Keepers of Gull Point Hand Over to Automatic Beacon"] == (
        "coast",
    )
    # the keyword must be a whole word: "pineapple" would not count
    assert runtime.sources.topics_for_text("A pineapple tart") == ()
    assert runtime.sources.topics_for_text("The APPLE harvest") == ("farming",)


def test_same_text_under_another_url_is_marked_duplicate(
    project: Project, runtime: Runtime
) -> None:
    original = (project.root / "articles" / "new-pier.txt").read_text()
    body = " ".join(["The harbour board met again and talked about the new pier for a while."] * 4)
    first = original.replace("Work starts in January.", body)
    (project.root / "articles" / "new-pier.txt").write_text(first)
    (project.root / "articles" / "pier-republished.txt").write_text(
        first.replace("Harbour Board Approves", "Board Approves").replace(
            "Bayside Courier", "Copycat News"
        )
    )

    collect(runtime.sources, runtime.store, runtime.settings, NOW)

    everything = runtime.store.articles_published_since(None)
    copies = [a for a in everything if a.duplicate_of]
    (copy,) = copies
    assert copy.source == "Copycat News"
    original_id = next(
        a.id for a in everything if a.source == "Bayside Courier" and "Pier" in a.title
    )
    assert copy.duplicate_of == original_id
    assert copy.id not in {a.id for a in runtime.store.articles_seen_after(None)}


def test_old_articles_are_pruned_after_the_retention_time(project: Project) -> None:
    runtime = project.runtime(DIGEST_RETENTION_DAYS="30")
    try:
        collect(runtime.sources, runtime.store, runtime.settings, NOW)
        later = collect(runtime.sources, runtime.store, runtime.settings, NOW + timedelta(days=31))
        remaining = runtime.store.articles_seen_after(None)
    finally:
        runtime.close()

    assert later.pruned == 6
    assert later.saved.new == 0  # still in the sources, but too old to store again
    assert remaining == []


def test_progress_is_reported_once_per_source(runtime: Runtime) -> None:
    seen: list[str] = []

    collect(
        runtime.sources,
        runtime.store,
        runtime.settings,
        NOW,
        progress=lambda r: seen.append(r.result.source),
    )

    assert sorted(seen) == sorted(s.name for s in runtime.sources.sources)


def test_source_health_is_remembered(project: Project, runtime: Runtime) -> None:
    (project.root / "feeds" / "coast.rss.xml").write_text("<rss><broken")

    collect(runtime.sources, runtime.store, runtime.settings, NOW)

    states = runtime.store.all_source_states()
    coast = states[str(project.root / "feeds" / "coast.rss.xml")]
    assert coast.failures == 1 and "not a readable" in coast.last_error
    folder = states[str(project.root / "articles")]
    assert folder.last_success == NOW.isoformat() and folder.failures == 0


def test_unchanged_article_files_are_not_read_again(project: Project, runtime: Runtime) -> None:
    collect(runtime.sources, runtime.store, runtime.settings, NOW)
    pier = project.root / "articles" / "new-pier.txt"
    pier.write_text(pier.read_text().replace("£6m", "£6.5m"), encoding="utf-8")

    again = collect(runtime.sources, runtime.store, runtime.settings, NOW + timedelta(hours=1))

    assert again.unchanged_files == 2  # the keepers file and the orchard note
    assert [a.title for r in again.reads for a in r.result.articles] == [
        "Harbour Board Approves New Pier for Gull Point Ferries"
    ]
    assert again.saved.updated == 1


def test_changed_folder_settings_read_the_files_again(project: Project) -> None:
    first = project.runtime()
    try:
        collect(first.sources, first.store, first.settings, NOW)
    finally:
        first.close()
    sources = project.root / "sources.yaml"
    sources.write_text(sources.read_text().replace("topics: [farming]", "topics: [farming, coast]"))

    runtime = project.runtime()
    try:
        again = collect(runtime.sources, runtime.store, runtime.settings, NOW)
    finally:
        runtime.close()

    notes = next(r for r in again.reads if r.result.source == "Farm notes")
    assert notes.result.unchanged_files == 0 and len(notes.result.articles) == 1
