"""Accounts: creating, deactivating, resetting passwords and moving a worker's clients."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from placements.admin import bp
from placements.admin.forms import TransferClientsForm, UserCreateForm
from placements.extensions import db
from placements.models import Client, Organisation, User
from placements.permissions import COORDINATOR
from placements.services import users
from placements.web.access import roles_required
from placements.web.forms import choices
from placements.web.unit_of_work import attempt


def _organisation_choices() -> list:
    query = (
        select(Organisation.id, Organisation.name).where(Organisation.archived_at.is_(None)).order_by(Organisation.name)
    )
    return choices([(0, "–")] + [(row.id, row.name) for row in db.session.execute(query)])


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _worker_choices(workers, other_than: int) -> list:
    return choices((w.id, f"{w.name} ({w.email})") for w in workers if w.id != other_than)


@bp.route("/users", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def user_list():
    form = UserCreateForm()
    form.organisation.choices = _organisation_choices()
    if form.validate_on_submit():
        password = users.new_one_time_password()
        organisation_id = (form.organisation.data or None) if form.role.data == "host" else None
        user = attempt(
            lambda: users.create_user(
                db.session,
                current_user,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=password,
                organisation_id=organisation_id,
                must_change_password=True,
            ),
            form=form,
        )
        if user:
            return render_template("admin/one_time_password.html", account=user, password=password, created=True)
    accounts = db.session.scalars(select(User).order_by(User.role, User.name)).all()
    client_counts = dict(db.session.execute(select(Client.owner_id, func.count()).group_by(Client.owner_id)).all())
    workers = [u for u in accounts if u.role == "social_worker" and u.active]
    transfer_forms = {}
    for account in accounts:
        if account.role == "social_worker" and client_counts.get(account.id):
            transfer = TransferClientsForm(prefix=f"t{account.id}")
            transfer.target.choices = _worker_choices(workers, account.id)
            transfer_forms[account.id] = transfer
    context = {"accounts": accounts, "client_counts": client_counts, "transfer_forms": transfer_forms}
    return render_template("admin/users.html", form=form, **context)


@bp.post("/users/<id:user_id>/deactivate")
@roles_required(COORDINATOR)
def deactivate_user(user_id: int):
    user = _user_or_404(user_id)
    if attempt(lambda: users.set_active(db.session, user, False, by=current_user)):
        flash(_("%(email)s was deactivated and logged out everywhere.", email=user.email), "success")
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<id:user_id>/reactivate")
@roles_required(COORDINATOR)
def reactivate_user(user_id: int):
    user = _user_or_404(user_id)
    if attempt(lambda: users.set_active(db.session, user, True, by=current_user)):
        flash(_("%(email)s can log in again.", email=user.email), "success")
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<id:user_id>/reset-password")
@roles_required(COORDINATOR)
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    password = users.reset_password(db.session, user, by=current_user)
    return render_template("admin/one_time_password.html", account=user, password=password, created=False)


@bp.post("/users/<id:user_id>/transfer-clients")
@roles_required(COORDINATOR)
def transfer_clients(user_id: int):
    source = _user_or_404(user_id)
    form = TransferClientsForm(prefix=f"t{user_id}")
    form.target.choices = choices(
        (u.id, u.email) for u in db.session.scalars(select(User).where(User.role == "social_worker"))
    )
    if not form.validate_on_submit():
        flash(_("Choose the social worker who receives the clients."), "error")
        return redirect(url_for("admin.user_list"))
    target = _user_or_404(form.target.data)
    moved = attempt(lambda: users.transfer_clients(db.session, source, target, by=current_user))
    if moved is not None:
        count = 0 if moved is True else moved
        message = _(
            "%(count)s clients moved from %(source)s to %(target)s.",
            count=count,
            source=source.email,
            target=target.email,
        )
        flash(message, "success")
    return redirect(url_for("admin.user_list"))
