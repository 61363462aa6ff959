"""Log lines as JSON: one object per event, with the event's fields."""

from __future__ import annotations

import json
import logging

from digest.logs import JsonFormatter


def test_a_log_record_becomes_one_json_line_with_its_fields() -> None:
    record = logging.LogRecord(
        "digest.service", logging.WARNING, __file__, 1, "%s: %s", ("a", "b"), None
    )
    record.event, record.subscriber, record.edition = "send", "ada@example.com", "2026-11-26"

    line = JsonFormatter().format(record)

    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "a: b" and parsed["level"] == "warning"
    assert (parsed["event"], parsed["subscriber"], parsed["edition"]) == (
        "send", "ada@example.com", "2026-11-26",
    )  # fmt: skip
    assert parsed["time"].endswith("+00:00")
