"""Accounts: creating them with a set-password link, deactivating, resetting passwords and
moving a worker's clients (docs/rules.md §6.8, §11)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
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
from placements.web.urls import link_for_person

# The value a confirmation step's form posts; without it nothing changes (docs/rules.md §11.10).
CONFIRMED = "yes"
# The secret of a new set-password link waits here between the POST and the page that shows it
# once (post/redirect/get). The coordinator's own cookie, emptied by that page.
SHOWN_LINK = "password_link"


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


def _confirmed() -> bool:
    return request.form.get("confirm") == CONFIRMED


def _show_link_once(user: User, token: str, purpose: str):
    """The link went to its owner by e-mail, or (without a mail server) is shown once here."""
    if users.links_go_by_email():
        message = _("A link to set the password was sent by e-mail to %(email)s.", email=user.email)
        flash(message, "success")
        return redirect(url_for("admin.user_list"))
    session[SHOWN_LINK] = {"user_id": user.id, "token": token, "purpose": purpose}
    return redirect(url_for("admin.password_link", user_id=user.id))


def _client_counts() -> dict[int, int]:
    return dict(db.session.execute(select(Client.owner_id, func.count()).group_by(Client.owner_id)).all())


def _receivers(other_than: int | None = None) -> list[User]:
    """Social workers who may receive clients: their own password set, logged in once."""
    workers = db.session.scalars(select(User).where(User.role == "social_worker").order_by(User.name)).all()
    return [w for w in workers if w.id != other_than and users.ready_to_receive_clients(w)]


@bp.route("/users", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def user_list():
    form = UserCreateForm()
    form.organisation.choices = _organisation_choices()
    if form.validate_on_submit():
        organisation_id = (form.organisation.data or None) if form.role.data == "host" else None
        made = attempt(
            lambda: users.invite_user(
                db.session,
                current_user,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                organisation_id=organisation_id,
            ),
            form=form,
        )
        if made:
            user, token = made
            return _show_link_once(user, token, "invite")
    accounts = db.session.scalars(select(User).order_by(User.role, User.name)).all()
    client_counts = _client_counts()
    receivers = {u.id for u in accounts if users.ready_to_receive_clients(u)}
    # The move is offered only where there is a colleague to move the clients to.
    movable = {a.id for a in accounts if a.role == "social_worker" and client_counts.get(a.id) and receivers - {a.id}}
    return render_template(
        "admin/users.html", form=form, accounts=accounts, client_counts=client_counts, movable=movable
    )


@bp.get("/users/<id:user_id>/link")
@roles_required(COORDINATOR)
def password_link(user_id: int):
    """The set-password link, shown once after it was made; a reload shows it no more."""
    user = _user_or_404(user_id)
    g.private_link = True  # not cached, no Referer
    shown = session.pop(SHOWN_LINK, None)
    link = expires_at = purpose = None
    if isinstance(shown, dict) and shown.get("user_id") == user.id:
        made = users.find_link(db.session, str(shown.get("token", "")))
        if made is not None and users.link_problem(made) is None:
            link = link_for_person("auth.set_password", token=shown["token"])
            expires_at, purpose = made.expires_at, made.purpose
    return render_template("admin/password_link.html", account=user, link=link, expires_at=expires_at, purpose=purpose)


def _confirmation(account: User, action: str):
    return render_template("admin/confirm_user_action.html", account=account, action=action)


@bp.post("/users/<id:user_id>/deactivate")
@roles_required(COORDINATOR)
def deactivate_user(user_id: int):
    user = _user_or_404(user_id)
    problem = users.deactivation_refused(user, current_user)
    if problem:
        flash(problem, "error")
        return redirect(url_for("admin.user_list"))
    if not _confirmed():
        return _confirmation(user, "deactivate")
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
    problem = users.reset_refused(user, current_user)
    if problem:
        flash(problem, "error")
        return redirect(url_for("admin.user_list"))
    if not _confirmed():
        return _confirmation(user, "reset")
    token = attempt(lambda: users.reset_password(db.session, user, by=current_user))
    if not token:
        return redirect(url_for("admin.user_list"))
    return _show_link_once(user, token, "reset")


@bp.route("/users/<id:user_id>/transfer-clients", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def transfer_clients(user_id: int):
    """Choose who receives a worker's clients; the page states the consequence and its
    button is the confirmation (docs/rules.md §6.8, §11.10)."""
    source = _user_or_404(user_id)
    count = _client_counts().get(source.id, 0)
    receivers = _receivers(other_than=source.id)
    form = TransferClientsForm()
    form.target.choices = choices((u.id, f"{u.name} ({u.email})") for u in receivers)
    if request.method == "POST" and _confirmed() and form.validate_on_submit():
        target = db.session.get(User, form.target.data)
        if target is None:
            form.target.errors.append(_("Choose the social worker who receives the clients."))
        else:
            transfer = attempt(lambda: users.transfer_clients(db.session, source, target, by=current_user), form=form)
            if transfer:
                message = _(
                    "%(count)s clients moved from %(source)s to %(target)s.",
                    count=transfer.client_count,
                    source=source.email,
                    target=target.email,
                )
                flash(message, "success")
                return redirect(url_for("admin.user_list"))
    return render_template("admin/transfer_clients.html", form=form, source=source, count=count, receivers=receivers)


@bp.app_template_global()
def recent_transfers(user) -> list:
    """Moves of clients to or from ``user`` lately, for the line on their client list
    (docs/rules.md §6.8); shown to both workers until notifications tell them as well."""
    return users.recent_transfers(db.session, user)
