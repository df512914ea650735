"""The Kainuu placement registry: a Flask application."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from placements import config as settings
from placements.extensions import babel, csrf, db, limiter, login_manager, migrate, select_locale

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides settings read from the environment."""
    instance_path = (
        (config or {}).get("INSTANCE_PATH")
        or os.environ.get("INSTANCE_PATH")
        or str(settings.PROJECT_ROOT / "instance")
    )
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        static_folder=str(settings.PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings.FIXED)
    app.config.update(settings.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    _ensure_secret_key(app)
    _configure_database_engine(app)
    _trust_proxies(app)

    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_errors(app)
    register_security(app)
    register_cli(app)
    register_template_helpers(app)
    register_unit_of_work(app)
    return app


def _ensure_secret_key(app: Flask) -> None:
    """Serving needs SECRET_KEY; development keeps a random one in the instance folder.

    A ``flask`` command (migrations, imports, backups) signs no cookies, so it may run
    without one and gets a throw-away key; a server without it refuses to start, and
    ``flask run`` is a server.
    """
    if app.config.get("SECRET_KEY"):
        return
    if not (app.config.get("DEVELOPMENT") or app.config.get("TESTING")):
        import click

        context = click.get_current_context(silent=True)
        if context is not None and not _serving(context):
            app.config["SECRET_KEY"] = secrets.token_hex(32)
            return
        raise RuntimeError(
            "SECRET_KEY is not set. Set it in the environment (see .env.example); "
            "only PLACEMENTS_ENV=development may run without it."
        )
    key_file = Path(app.instance_path) / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def _serving(context) -> bool:
    """True inside ``flask run`` (the development server serves requests like gunicorn)."""
    while context is not None:
        if context.info_name == "run" or getattr(context.command, "name", None) == "run":
            return True
        context = context.parent
    return False


def _trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies, take the client address, scheme and host from their
    X-Forwarded-* headers (HSTS, secure cookies and rate limits depend on them)."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _configure_database_engine(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        # Writes start with BEGIN IMMEDIATE: a writer waits (busy timeout) for the write lock
        # up front instead of failing when a read transaction tries to become a write.
        timeout = app.config.get("SQLITE_BUSY_TIMEOUT", 15)
        options.setdefault("connect_args", {"timeout": timeout, "isolation_level": "IMMEDIATE"})
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL for concurrent readers and enforced foreign keys on SQLite (the busy timeout comes
    from the connection's ``timeout``)."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def register_extensions(app: Flask) -> None:
    # The user loader, and the database:// rate-limit storage Flask-Limiter may be configured with.
    from placements.web import login, rate_limits  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "database://")
    limiter.init_app(app)


def register_converters(app: Flask) -> None:
    """Before the blueprints: ``<id:…>`` and the default converter refuse malformed paths."""
    from placements.web import converters

    converters.register(app)


def register_blueprints(app: Flask) -> None:
    """Each feature is a package whose ``__init__`` creates its blueprint ``bp``."""
    from placements import (
        admin,
        api,
        auth,
        catalogue,
        clients,
        inbox,
        jobs,
        main,
        outcomes,
        paths,
        rounds,
        steps,
        survey,
    )

    for feature in (main, auth, catalogue, clients, paths, steps, survey, rounds, outcomes, api, admin, inbox, jobs):
        app.register_blueprint(feature.bp)


def register_errors(app: Flask) -> None:
    from placements.web import errors

    errors.register(app)


def register_security(app: Flask) -> None:
    from placements.web import auditing, compression, security, static_files

    compression.register(app)  # first registered, so it compresses last
    static_files.register(app)
    auditing.register(app)
    security.register(app)


def register_cli(app: Flask) -> None:
    from placements.cli import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from placements.web import templating

    templating.register(app)


def register_unit_of_work(app: Flask) -> None:
    """Last, so its commit runs first among the after-request hooks."""
    from placements.web import unit_of_work

    unit_of_work.register(app)
