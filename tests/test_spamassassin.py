"""The sample emails through Debian's SpamAssassin, offline: a low score, no header or MIME rule."""

from __future__ import annotations

import pytest

from digest.runtime import Runtime

from .conftest import sample_edition
from .spamassassin import reads_headers_or_mime, score_message

MAX_SCORE = 2.0
# Informational (-0.001 points) and true of every message before its first SMTP hop: the
# mail server we hand it to adds the Received header that ends them.
UNTRAVELLED = {"NO_RECEIVED", "NO_RELAYS"}


# Ada gets multipart/alternative (text and HTML); Kenji (`format: text`) gets text/plain only.
@pytest.mark.parametrize("email", ["ada@example.com", "kenji@example.net"])
def test_sample_email_is_not_spam(sample_runtime: Runtime, email: str) -> None:
    edition = sample_edition(sample_runtime, email)
    assert edition.stories  # an empty edition would prove little
    verdict = score_message(sample_runtime.send_context.composer.envelope(edition).data)
    flagged = [
        rule
        for rule, points in verdict.hits.items()
        if reads_headers_or_mime(rule) and not (rule in UNTRAVELLED and points <= 0)
    ]
    assert verdict.score < MAX_SCORE, verdict.report
    assert not flagged, f"header or MIME rules fired: {flagged}\n{verdict.report}"
