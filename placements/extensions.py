"""Flask extensions, created once and bound to the app in create_app()."""

from flask import current_app, has_request_context, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from placements.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

SUPPORTED_LOCALES = ("fi", "en")


def select_locale() -> str:
    """The language chosen in this session, else the logged-in user's, else the default
    (Finnish). Commands run outside a request and use the default language."""
    if has_request_context():
        chosen = session.get("lang")
        if chosen in SUPPORTED_LOCALES:
            return chosen
        from flask_login import current_user

        if current_user and current_user.is_authenticated and current_user.language in SUPPORTED_LOCALES:
            return current_user.language
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "fi")
    return default if default in SUPPORTED_LOCALES else "fi"


babel = Babel()
