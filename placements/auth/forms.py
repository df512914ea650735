"""Login and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from placements.services.passwords import MAX_LENGTH
from placements.web.forms import Form


class LoginForm(Form):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH * 4)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired()], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The new passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class SetPasswordForm(Form):
    """The form a set-password link opens (docs/rules.md §11.8)."""

    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH * 4)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The new passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set password"))
