"""The plan form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from placements.web.forms import BoundedDateField, Form


class PlanForm(Form):
    responsible_worker_id = SelectField(_l("Responsible worker"), coerce=int, validators=[InputRequired()])
    goal = TextAreaField(_l("Goal"), validators=[InputRequired(), Length(max=500)])
    next_step = TextAreaField(_l("Next step"), validators=[Optional(), Length(max=1000)])
    next_step_on = BoundedDateField(_l("Date of the next step"), validators=[Optional()])
    review_on = BoundedDateField(_l("Review date"), validators=[Optional()])
    submit = SubmitField(_l("Save the plan"))

    def values(self) -> dict:
        return {
            "responsible_worker_id": self.responsible_worker_id.data,
            "goal": self.goal.data or "",
            "next_step": self.next_step.data or "",
            "next_step_on": self.next_step_on.data,
            "review_on": self.review_on.data,
        }
