"""Numbered schema migrations: the database's `user_version` is the last one applied."""

MIGRATIONS = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE articles (
        id TEXT PRIMARY KEY, guid TEXT NOT NULL, canonical_url TEXT NOT NULL,
        url TEXT NOT NULL, title TEXT NOT NULL, standfirst TEXT NOT NULL, text TEXT NOT NULL,
        html TEXT NOT NULL, source TEXT NOT NULL, author TEXT NOT NULL, topics TEXT NOT NULL,
        related TEXT NOT NULL, footnotes TEXT NOT NULL, published TEXT NOT NULL,
        first_seen TEXT NOT NULL
    );
    CREATE INDEX articles_first_seen ON articles (first_seen);
    CREATE INDEX articles_canonical_url ON articles (canonical_url);
    CREATE TABLE sends (
        subscriber TEXT NOT NULL, edition TEXT NOT NULL, message_id TEXT NOT NULL,
        state TEXT NOT NULL, message BLOB NOT NULL, covered_until TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (subscriber, edition)
    );
    """,
    """
    ALTER TABLE articles ADD COLUMN source_key TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN text_hash TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN duplicate_of TEXT NOT NULL DEFAULT '';
    CREATE INDEX articles_text_hash ON articles (text_hash);
    CREATE INDEX articles_guid ON articles (guid);
    CREATE TABLE source_state (
        location TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '',
        fetch_url TEXT NOT NULL DEFAULT '', etag TEXT NOT NULL DEFAULT '',
        last_modified TEXT NOT NULL DEFAULT '', content_hash TEXT NOT NULL DEFAULT '',
        retired INTEGER NOT NULL DEFAULT 0, last_success TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '', last_error_at TEXT NOT NULL DEFAULT '',
        failures INTEGER NOT NULL DEFAULT 0
    );
    """,
    """
    CREATE TABLE file_stamps (path TEXT PRIMARY KEY, stamp TEXT NOT NULL);
    """,
    """
    ALTER TABLE sends ADD COLUMN next_attempt_at TEXT NOT NULL DEFAULT '';
    ALTER TABLE sends ADD COLUMN sent_at TEXT NOT NULL DEFAULT '';
    CREATE INDEX sends_state ON sends (state, next_attempt_at);
    CREATE INDEX sends_sent_at ON sends (sent_at);
    CREATE TABLE suppressions (
        email TEXT PRIMARY KEY, reason TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE send_messages (
        subscriber TEXT NOT NULL, edition TEXT NOT NULL, message BLOB NOT NULL,
        PRIMARY KEY (subscriber, edition)
    );
    INSERT INTO send_messages SELECT subscriber, edition, message FROM sends;
    UPDATE sends SET message = x'';
    CREATE INDEX sends_state_updated ON sends (state, updated_at);
    """,
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE topic_choices (
        email TEXT PRIMARY KEY, topics TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE TABLE used_forms (nonce TEXT PRIMARY KEY, expires_at TEXT NOT NULL);
    """,
)
