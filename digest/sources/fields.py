"""Reading untrusted feed documents: a field is text only when it really is a string."""

from __future__ import annotations

from typing import Any


def string_field(mapping: Any, key: str) -> str:
    """`mapping[key]` when it is a string, else "" (missing, None, a list, a number...)."""
    value = mapping.get(key) if hasattr(mapping, "get") else None
    return value if isinstance(value, str) else ""
