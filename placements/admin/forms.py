"""Coordinator forms: users and the audit trail filter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileRequired
from wtforms import EmailField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional

from placements.codes import ORGANISATION_KINDS, ROLES
from placements.web.forms import BoundedDateField, Form, SafeFileField, choices


class UserCreateForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(ROLES))
    organisation = SelectField(_l("Organisation (site hosts only)"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("Create account"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.role.data == "host" and not self.organisation.data:
            self.organisation.errors = [*self.organisation.errors, _l("Choose the organisation the host acts for.")]
            return False
        return valid


class TransferClientsForm(Form):
    """Choose the receiver; the page states the consequence and its button confirms."""

    target = SelectField(_l("Social worker who receives the clients"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Move the clients"))


class AuditFilterForm(Form):
    user_email = EmailField(_l("User's e-mail address"), validators=[Optional(), Length(max=254)])
    client_code = StringField(_l("Client code"), validators=[Optional(), Length(max=11)])
    action = SelectField(_l("Event"), validators=[Optional()])
    since = BoundedDateField(_l("From"), validators=[Optional()])
    until = BoundedDateField(_l("To"), validators=[Optional()])
    # Set by the paging buttons, which post the applied filters again (docs/rules.md §12.5).
    # A page number that is not one shows the first page.
    page = HiddenField()
    submit = SubmitField(_l("Search"))
    download = SubmitField(_l("Download CSV"))


class OrganisationForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    # Starts at "Choose…": a preselected kind would be a guess (docs/rules.md §13.1).
    kind = SelectField(
        _l("Kind"),
        choices=choices([("", _l("Choose…")), *ORGANISATION_KINDS.items()]),
        validators=[DataRequired(message=_l("Choose the kind of organisation."))],
    )
    business_id = StringField(_l("Business ID (Y-tunnus)"), validators=[Optional(), Length(max=9)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    contact_email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    submit = SubmitField(_l("Save"))


class ImportForm(Form):
    file = SafeFileField(_l("Site CSV file"), validators=[FileRequired(message=_l("Choose a file to upload."))])
    submit = SubmitField(_l("Check the file"))


class ImportConfirmForm(Form):
    token = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Import the file"))
