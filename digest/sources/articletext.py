"""Parse the plain-text article layout users drop into a local folder.

Two layouts are read. The full one: a topic line, the headline, a standfirst directly
followed by the outlet's name, body paragraphs with embedded related headlines, `*`
footnotes and a trailing `Discuss`. The plain one: a headline, a blank line, paragraphs.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest.errors import SourceError

_SMALL_WORDS = {
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or",
    "the", "to", "vs", "with", "over", "after", "amid", "up", "off", "per",
}  # fmt: skip
_CLOSERS = "\"'”’)]»"
_SENTENCE_END = ".!?…:;。！？"


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line number of the block's first line
    lines: tuple[str, ...]

    @property
    def is_single_line(self) -> bool:
        return len(self.lines) == 1

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass(frozen=True)
class ArticleText:
    headline: str
    paragraphs: tuple[str, ...]
    topic_label: str = ""
    standfirst: str = ""
    outlet: str = ""
    related_headlines: tuple[str, ...] = ()
    footnotes: tuple[str, ...] = ()


def parse_article_text(text: str, location: str) -> ArticleText:
    """Split an article file into its parts; raise SourceError naming the line if unusable."""
    if "\x00" in text:
        raise SourceError(location, "this is a binary file, not an article; remove it.", 1)
    blocks = _strip_trailer(split_blocks(text))
    if not blocks:
        raise SourceError(location, "the file is empty; write a headline and paragraphs.", 1)
    blocks, footnotes = _split_footnotes(blocks)
    topic_label = ""
    if _is_topic_line(blocks):
        topic_label, blocks = blocks[0].text, blocks[1:]
    headline_block, body = blocks[0], list(blocks[1:])
    headline, *rest = headline_block.lines
    if rest:  # a paragraph glued under the headline
        body.insert(0, Block(headline_block.line + 1, tuple(rest)))
    standfirst, outlet, body = _standfirst_and_outlet(body)
    related = tuple(b.text for b in body if _looks_like_headline(b))
    paragraphs = tuple(b.text for b in body if not _looks_like_headline(b))
    if not paragraphs and not standfirst:
        raise SourceError(
            location, "no paragraphs after the headline; separate them with blank lines.",
            headline_block.line,
        )  # fmt: skip
    return ArticleText(
        headline, paragraphs, topic_label, standfirst, outlet, related, tuple(footnotes)
    )


def split_blocks(text: str) -> list[Block]:
    """Runs of non-blank lines, each with the number of its first line."""
    blocks: list[Block] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not current:
            start = number
        if line:
            current.append(line)
        elif current:
            blocks.append(Block(start, tuple(current)))
            current = []
    if current:
        blocks.append(Block(start, tuple(current)))
    return blocks


def _strip_trailer(blocks: list[Block]) -> list[Block]:
    if blocks and blocks[-1].is_single_line and blocks[-1].text.lower() == "discuss":
        return blocks[:-1]
    return blocks


def _split_footnotes(blocks: list[Block]) -> tuple[list[Block], list[str]]:
    kept: list[Block] = []
    footnotes: list[str] = []
    for block in blocks:
        if kept and all(line.startswith("*") for line in block.lines):
            footnotes.extend(line.lstrip("* ").strip() for line in block.lines)
        else:
            kept.append(block)
    return kept, footnotes


def _ends_sentence(line: str) -> bool:
    stripped = line.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _is_short_label(block: Block, max_words: int) -> bool:
    words = block.text.split()
    return block.is_single_line and 0 < len(words) <= max_words and not _ends_sentence(block.text)


def _is_topic_line(blocks: list[Block]) -> bool:
    """A one-to-three word first line followed by a one-line headline."""
    return (
        len(blocks) >= 3
        and _is_short_label(blocks[0], 3)
        and blocks[1].is_single_line
        and not _ends_sentence(blocks[1].text)
    )


def _standfirst_and_outlet(body: list[Block]) -> tuple[str, str, list[Block]]:
    """The standfirst paragraph and the outlet line right under it, when present."""
    if not body:
        return "", "", body
    first = body[0]
    if len(first.lines) >= 2 and _is_outlet(first.lines[-1]) and _ends_sentence(first.lines[-2]):
        return " ".join(first.lines[:-1]), first.lines[-1], body[1:]
    if (
        len(body) >= 3
        and _ends_sentence(first.text)
        and _is_short_label(body[1], 5)
        and not _looks_like_headline(body[1])
    ):
        return first.text, body[1].text, body[2:]
    return "", "", body


def _is_outlet(line: str) -> bool:
    return 0 < len(line.split()) <= 5 and len(line) <= 60 and not _ends_sentence(line)


def _looks_like_headline(block: Block) -> bool:
    """An embedded related headline: one Title Case line of four or more words, no full stop."""
    words = block.text.split()
    if not block.is_single_line or len(words) < 4 or _ends_sentence(block.text):
        return False
    significant = [w for w in words if w[0].isalpha() and w.lower() not in _SMALL_WORDS]
    if not significant:
        return False
    capitalised = sum(1 for w in significant if w[0].isupper())
    return capitalised / len(significant) >= 0.6
