"""Forms for the steps of a placement."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from placements import codes
from placements.clock import today
from placements.web.forms import BoundedDateField, Form, choices


class DeclineForm(Form):
    reason = TextAreaField(_l("Reason for declining"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Decline"))


class EndForm(Form):
    ended_on = BoundedDateField(_l("End date"), default=today, validators=[InputRequired()])
    end_reason = SelectField(_l("Reason for ending"), choices=choices(codes.END_REASONS))
    submit = SubmitField(_l("End the placement"))
