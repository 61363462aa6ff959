"""Turn the bytes of a local file into text, whatever encoding its editor saved it in."""

from __future__ import annotations

import codecs

import charset_normalizer

# UTF-32 first: its little-endian mark begins with the UTF-16 little-endian one
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CHAOS_MARGIN = 0.06


def split_bom(data: bytes) -> tuple[str | None, bytes]:
    """The codec a byte-order mark at the start names (or None), and the bytes after it."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, data[len(bom) :]
    return None, data


def decode_bytes(data: bytes) -> str:
    """Text from a byte-order mark, else UTF-8, else the likeliest legacy encoding.

    Never fails: bytes no encoding explains become U+FFFD replacement characters.
    """
    codec, rest = split_bom(data)
    if codec:
        return rest.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    guess = _likeliest_text(data)
    if guess is not None:
        return guess
    # what Windows editors wrote for decades, and it maps almost every byte
    return data.decode("cp1252", errors="replace")


def _likeliest_text(data: bytes) -> str | None:
    """charset-normalizer's best guess, nudged towards cp1252 on a near tie."""
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    # cp1250 and cp1252 share most letters, and on short texts the detector often ranks
    # cp1250 first; a cp1252 reading as clean and as coherent is the likelier in practice
    western = next(
        (
            match
            for match in matches
            if match.encoding == "cp1252"
            and match.chaos <= best.chaos + _CHAOS_MARGIN
            and match.coherence >= best.coherence
        ),
        None,
    )
    return str(western or best)
