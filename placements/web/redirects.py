"""Where a redirect may go: only paths on this site (docs/rules.md §11.12)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def safe_next(target: object, fallback: str) -> str:
    """``target`` if it is a plain local path, else ``fallback``.

    Refused: anything with a scheme or host, protocol-relative ``//`` and ``/\\``, and any
    whitespace or control character (browsers drop tabs and newlines, turning ``/\\t/x``
    into ``//x``), also when percent-encoded.
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2000:
        return fallback
    for text in (target, unquote(target)):
        if text.startswith(("//", "/\\")) or "\\" in text:
            return fallback
        if any(ord(character) < 33 or ord(character) == 127 for character in text):
            return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target
