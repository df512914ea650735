"""Security headers, CSP nonces, session timeouts and CSRF failure handling."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

ABSOLUTE_SESSION_SECONDS = 12 * 60 * 60
# Refresh the idle timer at most this often, so every request need not rewrite the cookie.
SEEN_RESOLUTION_SECONDS = 30


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def tile_origin(url_template: str) -> str:
    """``https://{s}.tile.example.org/{z}/{x}/{y}.png`` -> ``https://*.tile.example.org``."""
    parts = urlsplit(url_template)
    host = parts.netloc.replace("{s}.", "*.").replace("{s}", "*")
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


def content_security_policy(nonce: str, tiles: str) -> str:
    images = " ".join(part for part in ("'self'", "data:", tiles) if part)
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def _set_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(csp_nonce(), g.get("tile_origin", ""))
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self), payment=()"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint == "static":
        return response
    if g.get("private_link"):
        # A set-password page: its address holds the link's secret (docs/rules.md §11.8).
        headers["Cache-Control"] = "no-store"
        headers["Referrer-Policy"] = "no-referrer"
    elif g.get("private_caching"):
        # Catalogue data without client data (the map's markers): the browser may keep it and
        # asks again each time, answered 304 while the data is the same.
        headers["Cache-Control"] = "private, no-cache"
    elif current_user.is_authenticated:
        # Pages of logged-in users may hold client data: never keep them in any cache.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    elif "Cache-Control" not in headers:
        _anonymous_caching(response)
    return response


def allow_private_caching() -> None:
    """Let this response be kept by the browser (``private, no-cache``) even for a logged-in
    user: for responses that hold no client data and carry an ETag (docs/rules.md §11.7)."""
    g.private_caching = True


# The public catalogue's API answers may be kept this long by any cache (free places change).
PUBLIC_API_MAX_AGE = 60


def _anonymous_caching(response) -> None:
    """Anonymous visitors (docs/rules.md §11.7): the read-only API's data is the same for
    everyone and may be cached briefly; pages carry this browser's form tokens, so only the
    browser may keep them, and it asks again before showing one."""
    public_data = (
        request.method == "GET"
        and request.blueprint == "api"
        and response.status_code == 200
        and response.is_json
        and not session.modified  # no cookie goes with it
    )
    if public_data:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_API_MAX_AGE}"
        response.vary.add("Cookie")
    else:
        response.headers["Cache-Control"] = "private, no-cache"


def _enforce_session_limits():
    """Idle and absolute timeouts; a password someone else knows (a demo account's) must be
    changed before anything else (docs/rules.md §11.5, §11.9)."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = time.time()
    login_at = session.get("login_at", 0)
    seen_at = session.get("seen_at", 0)
    idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if now - seen_at > idle_limit or now - login_at > ABSOLUTE_SESSION_SECONDS:
        from placements.auth.sessions import expire_session

        expire_session()  # only this session: the user's other devices stay logged in
        flash(_("Your session expired. Log in again."), "info")
        return redirect(url_for("auth.login"))
    if now - seen_at > SEEN_RESOLUTION_SECONDS:
        session["seen_at"] = now
    if current_user.must_change_password and request.endpoint not in {
        "auth.change_password",
        "auth.logout",
        "main.set_language",
    }:
        flash(_("Choose a new password before you continue."), "info")
        return redirect(url_for("auth.change_password"))
    return None


def _csrf_failed(error: CSRFError):
    from placements.web.auditing import audit_event
    from placements.web.errors import render_error
    from placements.web.unit_of_work import discard

    discard()
    audit_event("csrf_failed", detail=f"{request.method} {request.endpoint}: {error.description}")
    return render_error(
        400, _("The form had expired or did not come from this service. Reload the page and try again.")
    )


def register(app: Flask) -> None:
    origin = tile_origin(app.config.get("MAP_TILES_URL", ""))

    @app.before_request
    def remember_tile_origin():
        g.tile_origin = origin

    app.before_request(_enforce_session_limits)
    app.after_request(_set_headers)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
