"""Forms of the survey round pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from placements.web.forms import BoundedDateField, Form


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoundForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    reference_date = BoundedDateField(_l("Reference date"), validators=[DataRequired()])
    period_start = BoundedDateField(_l("Period from"), validators=[DataRequired()])
    period_end = BoundedDateField(_l("Period to"), validators=[DataRequired()])
    deadline = BoundedDateField(_l("Deadline"), validators=[DataRequired()])
    municipalities = MultiCheckboxField(_l("Municipalities (none chosen: all)"), choices=[], validate_choice=True)
    opening_types = MultiCheckboxField(_l("Opening types (none chosen: all)"), choices=[], validate_choice=True)
    organisations = SelectMultipleField(_l("Organisations (none chosen: all)"), choices=[], coerce=int)


class ReopenForm(Form):
    reason = TextAreaField(_l("Why is the round reopened?"), validators=[DataRequired(), Length(max=500)])


class CommentForm(Form):
    """The host's free-text comment; the per-opening answers are read from the request."""

    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
