"""What the feature forms share: choices, checkbox groups, the edit lock and its conflict page."""

from __future__ import annotations

from collections.abc import Iterable

from flask import abort, render_template
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from placements.extensions import db
from placements.web.unit_of_work import discard


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """``[(value, label), ...]`` or a code→label dict as WTForms select choices."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes for a set of codes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VersionedForm(FlaskForm):
    """Carries the row's version, so an edit made on a stale form is refused (409)."""

    version = HiddenField()

    def expected_version(self) -> int:
        """The version the form was loaded with; a missing or malformed one is a 400."""
        raw = (self.version.data or "").strip()
        if not raw.isdecimal() or len(raw) > 18:
            abort(400, description=_("The form was incomplete. Reload the page and save again."))
        return int(raw)


def render_conflict(template: str, form: FlaskForm, current, **context):
    """409: someone saved first. Show their (current) values in the form and keep the
    user's attempt visible beside them."""
    skipped = ("csrf_token", "version", "submit")
    attempted = {field.label.text: field.data for field in form if field.name not in skipped}
    discard()
    db.session.refresh(current)
    fresh = type(form)(formdata=None, obj=current)
    fresh.version.data = current.version
    if "organisation" in fresh:
        fresh.organisation.data = current.organisation_id
    for field in form:
        if hasattr(field, "choices") and field.name in fresh:
            fresh[field.name].choices = field.choices
    return render_template(template, form=fresh, conflict=attempted, **context), 409
