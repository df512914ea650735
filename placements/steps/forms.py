"""Forms for the steps of a placement."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from placements import codes
from placements.clock import today
from placements.web.forms import choices


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason for declining"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Decline"))


class EndForm(FlaskForm):
    ended_on = DateField(_l("End date"), default=today, validators=[InputRequired()])
    end_reason = SelectField(_l("Reason for ending"), choices=choices(codes.END_REASONS))
    submit = SubmitField(_l("End the placement"))
