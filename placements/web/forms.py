"""What the feature forms share: the base form that refuses malformed input, safe number and
date fields, choices, checkbox groups, the edit lock and its conflict page."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from flask import abort, render_template
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from placements.extensions import db
from placements.services.input_checks import date_problem, text_problem
from placements.web.unit_of_work import discard


def refuse_control_characters(*, multiline: bool) -> Callable[[object], object]:
    """A WTForms filter: text with a control character (a NUL byte, an escape …; in a
    single-line field also a line break or tab) becomes the field's error
    (docs/rules.md §11.11)."""

    def check(value):
        if isinstance(value, str):
            problem = text_problem(value, multiline=multiline)
            if problem:
                raise ValueError(problem)
        return value

    return check


class Form(FlaskForm):
    """The base of every form: each text field (StringField and its kinds: e-mail, password,
    hidden, text area) refuses control characters with a clear message on the field, so
    no such text reaches a service or the database, on SQLite and PostgreSQL alike.
    Numbers, dates and uploads use ``FiniteDecimalField``, ``BoundedDateField`` and
    ``SafeFileField``."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField):
                multiline = issubclass(unbound_field.field_class, TextAreaField)
                filters = [*unbound_field.kwargs.get("filters", ()), refuse_control_characters(multiline=multiline)]
                options = {**options, "filters": filters}
            return unbound_field.bind(form=form, **options)


class FiniteDecimalField(DecimalField):
    """A decimal number; ``nan``, ``sNaN`` and ``inf`` are a field error, not a crash in a
    range check."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if valuelist and isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(_("Give a number."))


class SafeFileField(FileField):
    """An upload whose file name (which is stored and shown) has no control characters."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        name = getattr(self.data, "filename", None)
        problem = text_problem(name) if isinstance(name, str) else None
        if problem:
            raise ValueError(problem)


class BoundedDateField(DateField):
    """A date in the years 1900–2100; others are a field error, never an overflow when the
    date is computed with (docs/rules.md §11.11)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        problem = date_problem(self.data) if valuelist and isinstance(self.data, date) else None
        if problem:
            self.data = None
            raise ValueError(problem)


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """``[(value, label), ...]`` or a code→label dict as WTForms select choices."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes for a set of codes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VersionedForm(Form):
    """Carries the row's version: an edit made on a stale form is refused (409), one without a
    well-formed version is a 400 (docs/rules.md §3.7, §3.9)."""

    version = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        """A version that was sent must be well-formed before anything else is checked
        (a form without one, such as a new site's, is checked by ``expected_version``)."""
        if self.version.raw_data:
            self.expected_version()
        return super().validate(extra_validators)

    def expected_version(self) -> int:
        """The version the form was loaded with; a missing or malformed one is a 400."""
        raw = self.version.data if isinstance(self.version.data, str) else ""
        raw = raw.strip()
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
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
