"""Making CSV cells safe to open in spreadsheet programs (formula injection)."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would read as a formula."""
    if text and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def restore(text: str) -> str:
    """Undo ``neutralise`` on import, so an export re-imports to the same text."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
