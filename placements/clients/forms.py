"""Forms for clients, needs and placement proposals."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from placements import codes
from placements.web.forms import BoundedDateField, FiniteDecimalField, Form, MultiCheckboxField, choices


def choose_first(pairs) -> list:
    """Choices that start with an empty "Choose…": nothing is chosen for the user where a
    default would be a guess (docs/rules.md §6.2)."""
    return choices([("", _l("Choose…")), *(pairs.items() if isinstance(pairs, dict) else pairs)])


class ClientForm(Form):
    municipality_code = SelectField(
        _l("Municipality of residence"), validators=[DataRequired(message=_l("Choose a municipality."))]
    )
    home_postal_code = StringField(
        _l("Home postal code"),
        validators=[Optional(), Regexp(r"^\d{5}$", message=_l("A postal code has five digits."))],
    )
    age_band = SelectField(
        _l("Age group"),
        choices=choose_first(codes.AGE_BANDS),
        validators=[DataRequired(message=_l("Choose an age group."))],
    )
    gender = SelectField(_l("Gender (optional)"), choices=choices(codes.GENDERS), default="unknown")
    shared_with = MultiCheckboxField(_l("Share with colleagues"), coerce=int)
    submit = SubmitField(_l("Save"))


class NeedsForm(Form):
    wanted_types = MultiCheckboxField(
        _l("Kinds of place the client is looking for"),
        choices=choices(codes.OPENING_TYPES),
        validators=[DataRequired(message=_l("Choose at least one kind of place."))],
    )
    task_areas = MultiCheckboxField(_l("Preferred task areas"), choices=choices(codes.TASK_AREAS))
    days_per_week = IntegerField(
        _l("Days a week the client can work"), validators=[InputRequired(), NumberRange(min=1, max=7)]
    )
    hours_per_day = FiniteDecimalField(
        _l("Hours a day the client can work"), places=1, validators=[InputRequired(), NumberRange(min=0.5, max=24)]
    )
    max_travel_km = IntegerField(
        _l("Longest acceptable distance from home (km, straight line)"),
        validators=[InputRequired(), NumberRange(min=0, max=1000)],
    )
    needs_public_transport = BooleanField(_l("Travels by bus: the site must have a bus stop within about 500 m"))
    accessibility = MultiCheckboxField(_l("Accessibility the client needs"), choices=choices(codes.ACCESSIBILITY))
    supports = MultiCheckboxField(_l("Support the client needs"), choices=choices(codes.SUPPORTS))
    max_physical_demand = SelectField(
        _l("Physically, work may be at most"), choices=choices(codes.PHYSICAL_DEMANDS), default="heavy"
    )
    max_social_intensity = SelectField(
        _l("Contact with other people may be at most"), choices=choices(codes.SOCIAL_INTENSITIES), default="high"
    )
    languages = MultiCheckboxField(
        _l("Languages the client can work in"),
        choices=choices(codes.COMMON_LANGUAGES),
        validators=[DataRequired(message=_l("Choose at least one language the client can work in."))],
    )
    earliest_start = BoundedDateField(_l("Can start at the earliest"), validators=[Optional()])
    note = TextAreaField(
        _l("Note (seen only by the client's own social worker)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 6},
    )
    submit = SubmitField(_l("Save needs"))

    def values(self) -> dict:
        return {
            "wanted_types": tuple(sorted(self.wanted_types.data)),
            "task_areas": tuple(sorted(self.task_areas.data)),
            "days_per_week": self.days_per_week.data,
            "hours_per_day": float(self.hours_per_day.data),
            "max_travel_km": self.max_travel_km.data,
            "needs_public_transport": bool(self.needs_public_transport.data),
            "accessibility": tuple(sorted(self.accessibility.data)),
            "supports": tuple(sorted(self.supports.data)),
            "max_physical_demand": self.max_physical_demand.data,
            "max_social_intensity": self.max_social_intensity.data,
            "languages": tuple(sorted(self.languages.data)),
            "earliest_start": self.earliest_start.data,
            "note": (self.note.data or "").strip() or None,
        }


class ProposeForm(Form):
    start_date = BoundedDateField(_l("Start date"), validators=[InputRequired()])
    planned_end = BoundedDateField(_l("Planned end"), validators=[Optional()])
    days_per_week = IntegerField(_l("Agreed days a week"), validators=[InputRequired(), NumberRange(min=1, max=7)])
    hours_per_day = FiniteDecimalField(
        _l("Agreed hours a day"), places=1, validators=[InputRequired(), NumberRange(min=0.5, max=24)]
    )
    note_for_host = TextAreaField(
        _l("Note for the site host (optional)"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 5}
    )
    submit = SubmitField(_l("Propose the placement"))


class ClientSearchForm(Form):
    """The client list's code search. It is posted, never put in the address: client codes
    stay out of query strings (docs/rules.md §6.9, §6.11)."""

    code = StringField(_l("Client code or part of it"), validators=[Optional(), Length(max=20)])
