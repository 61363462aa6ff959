"""Safe YAML loading that remembers line numbers, so config errors can name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from digest.errors import ConfigError


class LineDict(dict[str, Any]):
    """A YAML mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that knows its own line and the line of each item."""

    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        mapping = LineDict({str(k): v for k, v in super().construct_mapping(node, True).items()})
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            str(key_node.value): key_node.start_mark.line + 1 for key_node, _ in node.value
        }
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        items = LineList(super().construct_sequence(node, deep=True))
        items.line = node.start_mark.line + 1
        items.item_lines = [item.start_mark.line + 1 for item in node.value]
        return items


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence
)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file with the safe loader; syntax errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read the file ({exc.strerror}).") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(path, line, f"invalid YAML: {exc.problem}. Fix the syntax.") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, f"invalid YAML: {exc}.") from exc


def require_mapping(value: Any, path: Path, line: int, what: str) -> LineDict:
    if not isinstance(value, LineDict):
        raise ConfigError(path, line, f"{what} must be a mapping of `key: value` lines.")
    return value


def require_list(value: Any, path: Path, line: int, what: str) -> LineList:
    if not isinstance(value, LineList):
        raise ConfigError(path, line, f"{what} must be a list (lines starting with `- `).")
    return value


def string_list(mapping: LineDict, key: str, path: Path) -> tuple[str, ...]:
    """The value under `key` as a tuple of strings; a single string counts as one item."""
    value = mapping.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    items = require_list(value, path, mapping.line_of(key), f"`{key}`")
    if not all(isinstance(item, str) for item in items):
        raise ConfigError(path, mapping.line_of(key), f"every item of `{key}` must be text.")
    return tuple(items)
