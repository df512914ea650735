"""Forms for sites, openings and capacity."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

from placements import codes
from placements.web.forms import BoundedDateField, FiniteDecimalField, MultiCheckboxField, VersionedForm, choices


class CapacityForm(VersionedForm):
    places_total = IntegerField(_l("Places in total"), validators=[InputRequired(), NumberRange(min=0, max=10000)])
    places_external = IntegerField(
        _l("Of which taken by participants referred from elsewhere"),
        validators=[InputRequired(), NumberRange(min=0, max=10000)],
    )
    status = SelectField(_l("Status"), choices=choices(codes.OPENING_STATUSES))
    accepting_from = BoundedDateField(_l("Accepting new participants from"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class ConfirmForm(VersionedForm):
    submit = SubmitField(_l("Data is up to date"))


class ArchiveForm(VersionedForm):
    submit = SubmitField(_l("Archive"))


class OpeningForm(VersionedForm):
    type = SelectField(_l("Type"), choices=choices(codes.OPENING_TYPES))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    task_areas = MultiCheckboxField(_l("Task areas"), choices=choices(codes.TASK_AREAS))
    days_per_week_min = IntegerField(
        _l("Days a week, at least"), validators=[InputRequired(), NumberRange(min=1, max=7)]
    )
    days_per_week_max = IntegerField(
        _l("Days a week, at most"), validators=[InputRequired(), NumberRange(min=1, max=7)]
    )
    hours_per_day_min = FiniteDecimalField(
        _l("Hours a day, at least"), places=1, validators=[InputRequired(), NumberRange(min=0.5, max=24)]
    )
    hours_per_day_max = FiniteDecimalField(
        _l("Hours a day, at most"), places=1, validators=[InputRequired(), NumberRange(min=0.5, max=24)]
    )
    supports = MultiCheckboxField(_l("Support available"), choices=choices(codes.SUPPORTS))
    physical_demand = SelectField(_l("Physical demand"), choices=choices(codes.PHYSICAL_DEMANDS))
    social_intensity = SelectField(_l("Social interaction"), choices=choices(codes.SOCIAL_INTENSITIES))
    languages = MultiCheckboxField(_l("Working languages"), choices=choices(codes.COMMON_LANGUAGES))
    submit = SubmitField(_l("Save"))

    def values(self) -> dict:
        return {
            "type": self.type.data,
            "title": self.title.data.strip(),
            "task_areas": tuple(sorted(self.task_areas.data)),
            "days_per_week_min": self.days_per_week_min.data,
            "days_per_week_max": self.days_per_week_max.data,
            "hours_per_day_min": float(self.hours_per_day_min.data),
            "hours_per_day_max": float(self.hours_per_day_max.data),
            "supports": tuple(sorted(self.supports.data)),
            "physical_demand": self.physical_demand.data,
            "social_intensity": self.social_intensity.data,
            "languages": tuple(sorted(self.languages.data)),
        }


class NewOpeningForm(OpeningForm):
    places_total = IntegerField(_l("Places in total"), validators=[InputRequired(), NumberRange(min=0, max=10000)])
    places_external = IntegerField(
        _l("Of which taken by participants referred from elsewhere"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=10000)],
    )


class SiteForm(VersionedForm):
    organisation = SelectField(_l("Organisation"), coerce=int)
    name = StringField(_l("Name of the site"), validators=[DataRequired(), Length(max=200)])
    street_address = StringField(_l("Street address"), validators=[DataRequired(), Length(max=200)])
    postal_code = StringField(
        _l("Postal code"), validators=[DataRequired(), Regexp(r"^\d{5}$", message=_l("A postal code has five digits."))]
    )
    municipality_code = SelectField(_l("Municipality"))
    latitude = FiniteDecimalField(_l("Latitude"), places=6, validators=[Optional(), NumberRange(min=-90, max=90)])
    longitude = FiniteDecimalField(_l("Longitude"), places=6, validators=[Optional(), NumberRange(min=-180, max=180)])
    accessibility = MultiCheckboxField(_l("Accessibility"), choices=choices(codes.ACCESSIBILITY))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    contact_email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    submit = SubmitField(_l("Save"))

    def values(self) -> dict:
        return {
            "name": self.name.data.strip(),
            "street_address": self.street_address.data.strip(),
            "postal_code": self.postal_code.data.strip(),
            "municipality_code": self.municipality_code.data,
            "latitude": float(self.latitude.data) if self.latitude.data is not None else None,
            "longitude": float(self.longitude.data) if self.longitude.data is not None else None,
            "accessibility": tuple(sorted(self.accessibility.data)),
            "description": (self.description.data or "").strip(),
            "contact_name": (self.contact_name.data or "").strip(),
            "contact_phone": (self.contact_phone.data or "").strip(),
            "contact_email": (self.contact_email.data or "").strip(),
        }
