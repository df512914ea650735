"""Destructive steps ask first (docs/rules.md §11.10).

A view whose POST would cancel, decline, end or archive something first checks the POST for
``confirm=yes``. Without it nothing changes: the view answers with the confirmation step,
a page that states the consequence and whose button posts the same form again with
``confirm=yes`` (the other values carried in hidden fields). After acting the view redirects
(post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import render_template, request

# The value the confirmation step posts; without it nothing changes.
CONFIRMED = "yes"


def confirmed() -> bool:
    """The POST carries the confirmation step's explicit confirmation."""
    return request.form.get("confirm") == CONFIRMED


@dataclass
class Confirmation:
    """What the confirmation page says and posts."""

    title: str  # the question, also the page's heading
    consequences: Iterable[str]  # what happens, one sentence each
    action: str  # where the confirming form posts (the step's own address)
    button: str  # the confirming button, named after the step
    back: str  # where "go back without changes" leads
    fields: dict[str, str] = field(default_factory=dict)  # the step's values, posted again
    facts: Iterable[tuple[str, str]] = ()  # (label, value) rows naming what the step is about


def ask(confirmation: Confirmation, template: str = "confirm.html", **context) -> str:
    """The confirmation step's page (200); the caller has changed nothing."""
    return render_template(template, confirm=confirmation, confirm_value=CONFIRMED, **context)
