"""Home page, health check and language choice."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from placements.extensions import SUPPORTED_LOCALES, db
from placements.services.overview import region_overview

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return render_template("main/index.html", overview=region_overview(db.session))


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise; for load balancers and monitoring."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify({"status": "error", "database": "unavailable"}), 503
    return jsonify({"status": "ok", "database": "ok"})


def _safe_next(target: str | None) -> str:
    """Only local paths, so the language switch cannot redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.index")


@bp.post("/language")
def set_language():
    chosen = request.form.get("lang", "")
    if chosen in SUPPORTED_LOCALES:
        session["lang"] = chosen
    return redirect(_safe_next(request.form.get("next")))
