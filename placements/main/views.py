"""Home page, health check and language choice."""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from placements import clock, permissions
from placements.extensions import SUPPORTED_LOCALES, db
from placements.main import bp
from placements.services.overview import region_overview
from placements.services.paths import attention
from placements.web.redirects import safe_next
from placements.web.unit_of_work import discard


@bp.get("/")
def index():
    if permissions.has_role(current_user, permissions.SOCIAL_WORKER):  # "Vaatii huomiota", docs/rules.md §18.6
        return render_template(
            "paths/attention.html", items=attention(db.session, current_user, today=clock.today(), now=clock.now())
        )
    return render_template("main/index.html", overview=region_overview(db.session))


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise; for load balancers and monitoring."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        discard()
        return jsonify({"status": "error", "database": "unavailable"}), 503
    return jsonify({"status": "ok", "database": "ok"})


@bp.post("/language")
def set_language():
    chosen = request.form.get("lang", "")
    if chosen in SUPPORTED_LOCALES:
        session["lang"] = chosen
        if current_user.is_authenticated:
            current_user.language = chosen  # e-mail follows the language the user reads
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))
