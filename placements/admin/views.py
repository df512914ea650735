"""Coordinator pages: user management and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from placements.admin.forms import AuditFilterForm, TransferClientsForm, UserCreateForm
from placements.extensions import db
from placements.formtools import choices
from placements.models import AuditEvent, Client, Organisation, User
from placements.permissions import COORDINATOR, roles_required
from placements.services import audit, users
from placements.services.csv_export import csv_stream
from placements.templating import label

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE_SIZE = 200


def _organisation_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.archived_at.is_(None)).order_by(Organisation.name))
    return choices([(0, "–")] + [(row.id, row.name) for row in rows])


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def user_list():
    form = UserCreateForm()
    form.organisation.choices = _organisation_choices()
    if form.validate_on_submit():
        password = users.new_one_time_password()
        try:
            user = users.create_user(
                db.session, email=form.email.data, name=form.name.data, role=form.role.data,
                password=password, organisation_id=form.organisation.data or None if form.role.data == "host" else None,
                created_by=current_user, must_change_password=True,
            )
        except users.UserError as error:
            form.email.errors.extend(error.problems)
        else:
            db.session.commit()
            return render_template("admin/one_time_password.html", account=user, password=password, created=True)
    accounts = db.session.scalars(select(User).order_by(User.role, User.name)).all()
    client_counts = dict(db.session.execute(select(Client.owner_id, func.count()).group_by(Client.owner_id)).all())
    workers = [u for u in accounts if u.role == "social_worker" and u.active]
    transfer_forms = {}
    for account in accounts:
        if account.role == "social_worker" and client_counts.get(account.id):
            transfer = TransferClientsForm(prefix=f"t{account.id}")
            transfer.target.choices = choices((w.id, f"{w.name} ({w.email})") for w in workers if w.id != account.id)
            transfer_forms[account.id] = transfer
    return render_template("admin/users.html", form=form, accounts=accounts, client_counts=client_counts, transfer_forms=transfer_forms)


@bp.post("/users/<int:user_id>/deactivate")
@roles_required(COORDINATOR)
def deactivate_user(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@roles_required(COORDINATOR)
def reactivate_user(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    user = _user_or_404(user_id)
    try:
        users.set_active(db.session, user, active, by=current_user)
    except users.UserError as error:
        for problem in error.problems:
            flash(problem, "error")
        return redirect(url_for("admin.user_list"))
    db.session.commit()
    message = _("%(email)s can log in again.", email=user.email) if active else _("%(email)s was deactivated and logged out everywhere.", email=user.email)
    flash(message, "success")
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<int:user_id>/reset-password")
@roles_required(COORDINATOR)
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    password = users.reset_password(db.session, user, by=current_user)
    db.session.commit()
    return render_template("admin/one_time_password.html", account=user, password=password, created=False)


@bp.post("/users/<int:user_id>/transfer-clients")
@roles_required(COORDINATOR)
def transfer_clients(user_id: int):
    source = _user_or_404(user_id)
    form = TransferClientsForm(prefix=f"t{user_id}")
    form.target.choices = choices((u.id, u.email) for u in db.session.scalars(select(User).where(User.role == "social_worker")))
    if not form.validate_on_submit():
        flash(_("Choose the social worker who receives the clients."), "error")
        return redirect(url_for("admin.user_list"))
    target = _user_or_404(form.target.data)
    try:
        moved = users.transfer_clients(db.session, source, target, by=current_user)
    except users.UserError as error:
        for problem in error.problems:
            flash(problem, "error")
        return redirect(url_for("admin.user_list"))
    db.session.commit()
    flash(_("%(count)s clients moved from %(source)s to %(target)s.", count=moved, source=source.email, target=target.email), "success")
    return redirect(url_for("admin.user_list"))


def _audit_form() -> AuditFilterForm:
    form = AuditFilterForm()
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    form.action.choices = choices([("", _("All events"))] + [(a, label("AUDIT_ACTIONS", a)) for a in actions])
    return form


@bp.route("/audit", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def audit_log():
    """Filters are posted, not put in the address, because they may hold a client code."""
    form = _audit_form()
    filters = {}
    if form.validate_on_submit():
        filters = {name: getattr(form, name).data for name in ("user_email", "client_code", "action", "since", "until")}
        if form.download.data:
            return _audit_csv(filters)
    query = audit.search_query(**filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    events = db.session.scalars(query.limit(AUDIT_PAGE_SIZE)).all()
    return render_template("admin/audit.html", form=form, events=events, total=total, page_size=AUDIT_PAGE_SIZE)


def _audit_csv(filters: dict) -> Response:
    from placements.auditing import audit_event

    audit_event("audit_exported", detail=", ".join(f"{k}={v}" for k, v in filters.items() if v and k != "client_code") or "all")
    db.session.commit()

    def rows():
        # Runs while the response streams, in the streaming request's own session.
        for event in db.session.scalars(audit.search_query(**filters).execution_options(yield_per=1000)):
            yield audit.csv_row(event)

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    response = Response(stream_with_context(csv_stream(audit.AUDIT_CSV_COLUMNS, rows())), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
