"""The sample edition rendered exactly as before; change on purpose with DIGEST_UPDATE_GOLDEN=1.

    DIGEST_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

rewrites the files; review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from digest.runtime import Runtime

from .conftest import sample_edition

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DIGEST_UPDATE_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="")
        return
    expected = path.read_bytes().decode("utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), f"golden/{name}", "rendered", lineterm=""
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(
            f"{name} differs from the golden file (DIGEST_UPDATE_GOLDEN=1 to accept):\n{shown}"
        )


@pytest.mark.parametrize("email", ["ada@example.com", "kenji@example.net"])
def test_sample_edition_matches_the_golden_files(sample_runtime: Runtime, email: str) -> None:
    rendered = sample_runtime.send_context.composer.render(sample_edition(sample_runtime, email))
    stem = email.partition("@")[0]

    check_golden(f"{stem}.txt", rendered.text)
    if rendered.html:
        check_golden(f"{stem}.html", rendered.html.replace("><", ">\n<"))
    assert rendered.html or stem == "kenji"


def test_sample_message_matches_the_golden_file(sample_runtime: Runtime) -> None:
    """Headers, MIME structure and quoted-printable bodies, byte for byte."""
    composer = replace(
        sample_runtime.send_context.composer, make_message_id=lambda _: "<golden@example.com>"
    )
    data = composer.envelope(sample_edition(sample_runtime)).data

    check_golden("ada.eml", data.decode("ascii"))
