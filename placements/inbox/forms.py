"""Forms of the inbox and the preferences page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SubmitField

from placements import codes
from placements.web.forms import Form, choices


class MarkAllReadForm(Form):
    submit = SubmitField(_l("Mark all as read"))


class ConfirmOpeningForm(Form):
    submit = SubmitField(_l("The data is up to date"))


def preferences_form(kinds: dict[str, str], *, formdata=None, language: str = "fi"):
    """A form with one delivery choice per kind the user receives, and the language."""

    class PreferencesForm(Form):
        language = SelectField(_l("Language of e-mail and pages"), choices=choices(codes.USER_LANGUAGES))
        submit = SubmitField(_l("Save"))

    for kind in kinds:
        if kind in codes.ALWAYS_IMMEDIATE:
            continue
        field = SelectField(codes.NOTIFICATION_KINDS[kind], choices=choices(codes.DELIVERIES))
        setattr(PreferencesForm, f"kind_{kind}", field)
    defaults = {f"kind_{kind}": value for kind, value in kinds.items()} | {"language": language}
    if formdata is None:
        return PreferencesForm(data=defaults)
    return PreferencesForm()
