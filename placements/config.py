"""Settings, read from environment variables in this one place (see .env.example)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {value!r}") from exc


def trusted_proxies() -> int:
    """TRUSTED_PROXIES: how many reverse proxies' X-Forwarded-* headers to believe (0 = none).

    Read by the app (``_trust_proxies``) and by gunicorn.conf.py, so gunicorn never believes
    forwarded headers the app would ignore.
    """
    return _int("TRUSTED_PROXIES", 0)


def default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "placements.db")


def from_environment(instance_path: str) -> dict:
    """Build the Flask config mapping from the process environment."""
    development = os.environ.get("PLACEMENTS_ENV", "production").strip() == "development"
    secret_key = os.environ.get("SECRET_KEY", "")
    max_upload_mb = _int("MAX_UPLOAD_MB", 5)
    server_name = os.environ.get("SERVER_NAME", "").strip() or None
    return {
        "SECRET_KEY": secret_key,
        "DEVELOPMENT": development,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or default_database_url(instance_path),
        "PUBLIC_CATALOGUE": _flag("PUBLIC_CATALOGUE", False),
        "MAP_TILES_URL": os.environ.get("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        "MAP_TILES_ATTRIBUTION": os.environ.get(
            "MAP_TILES_ATTRIBUTION",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
        ),
        "GEOCODER": os.environ.get("GEOCODER", "offline"),
        "NOMINATIM_URL": os.environ.get("NOMINATIM_URL", "https://nominatim.openstreetmap.org"),
        "NOMINATIM_USER_AGENT": os.environ.get("NOMINATIM_USER_AGENT", "kainuu-placement-registry/1.0"),
        "STALE_AFTER_DAYS": _int("STALE_AFTER_DAYS", 60),
        # database:// keeps rate-limit counters in DATABASE_URL, shared by every worker and
        # server (placements/web/rate_limits.py); redis://… in production (docs/deploy.md).
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "database://",
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", True),
        "CLIENT_RETENTION_DAYS": _int("CLIENT_RETENTION_DAYS", 365 * 2),
        "MAX_UPLOAD_MB": max_upload_mb,
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": os.environ.get("BABEL_DEFAULT_LOCALE", "fi"),
        "TRUSTED_PROXIES": trusted_proxies(),
        # The registry's own host name (registry.kainuu.example): absolute links in data and
        # set-password links are built from it, never from a request's Host header.
        "SERVER_NAME": server_name,
        # https for those links once SERVER_NAME is set; Flask's own default (http) without it.
        "PREFERRED_URL_SCHEME": os.environ.get("PREFERRED_URL_SCHEME", "").strip()
        or ("https" if server_name else "http"),
        "SQLITE_BUSY_TIMEOUT": _int("SQLITE_BUSY_TIMEOUT", 15),
        # E-mail (docs/deploy.md, "Mail"): without MAIL_SERVER, messages are written as .eml
        # files under the instance folder instead of being sent.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "").strip(),
        "MAIL_PORT": _int("MAIL_PORT", 587),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", True),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Kainuun paikkarekisteri <noreply@localhost>"),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 30),
        # The job worker sends waiting e-mail this often (seconds) and queues the day's notices
        # from this hour on (Finnish time).
        "MAIL_SEND_SECONDS": _int("MAIL_SEND_SECONDS", 10),
        "DAILY_NOTICES_HOUR": _int("DAILY_NOTICES_HOUR", 7),
        # A running job whose worker has not reported for this long is taken to have lost it.
        "JOB_STALE_SECONDS": _int("JOB_STALE_SECONDS", 120),
        # Tests only: job handlers wait at their checkpoints while this file exists.
        "JOB_HOLD_FILE": os.environ.get("JOB_HOLD_FILE", ""),
    }


# Fixed settings that are not meant to be changed per installation.
FIXED = {
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
    "LANGUAGES": ("fi", "en"),
    "BABEL_DEFAULT_TIMEZONE": "Europe/Helsinki",
    "WTF_CSRF_TIME_LIMIT": None,
}


# Where links in e-mail point when SERVER_NAME is not set: the address `make run` serves.
DEVELOPMENT_ORIGIN = "http://127.0.0.1:5000"


def public_origin(config) -> str:
    """``https://registry.example.fi`` from SERVER_NAME (and PREFERRED_URL_SCHEME), or "" when
    SERVER_NAME is not set. Never taken from a request's Host header."""
    server = config.get("SERVER_NAME")
    if not server:
        return ""
    return f"{config.get('PREFERRED_URL_SCHEME') or 'https'}://{server}"
