"""Log in, log out, change password, set a password with a link."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from placements.auth import bp, throttle
from placements.auth.forms import ChangePasswordForm, LoginForm, SetPasswordForm
from placements.auth.sessions import end_session, renew_session, start_session
from placements.extensions import db, limiter
from placements.models import User
from placements.services import users
from placements.services.passwords import hash_password, needs_rehash, verify_password
from placements.web.access import login_required
from placements.web.auditing import audit_event
from placements.web.redirects import safe_next
from placements.web.unit_of_work import attempt

# Failed logins from one address allowed in the window; the next attempt gets 429. Counted by
# Flask-Limiter in RATELIMIT_STORAGE_URI (the database by default, Redis in production), so
# every worker and app server shares the count. The per-account limit is in ``throttle``.
ADDRESS_LIMIT = "30 per 15 minutes"
# Kept in the session while a demo account changes its first password (docs/rules.md §11.9).
NEXT_AFTER_FIRST_CHANGE = "next_after_first_change"


def _login_failed(response) -> bool:
    return bool(g.get("login_failed"))


def home_page(user: User) -> str:
    """The role's first screen: a host's stale openings, a worker's clients (docs/rules.md §11.9)."""
    if user.role == "host":
        return url_for("catalogue.my_sites")
    if user.role == "social_worker":
        return url_for("clients.client_list")
    return url_for("main.index")


def _next_page(user: User) -> str:
    """Where to go after login: the page asked for (kept in the session, never in the query
    string), else the role's first screen."""
    return safe_next(session.pop("next", None), "") or home_page(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(ADDRESS_LIMIT, methods=["POST"], deduct_when=_login_failed, scope="login-address")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email = throttle.account_key(form.email.data)
        throttle.take_turn(email)
        if throttle.account_throttled(email):
            abort(429)  # docs/rules.md §11.4: also a right password waits for the window to pass
        user = db.session.scalar(select(User).where(User.email == email))
        password_ok = verify_password(user.password_hash if user else None, form.password.data)
        if user is not None and password_ok and user.active:
            target = _next_page(user)
            start_session(user)
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            if user.must_change_password:
                session[NEXT_AFTER_FIRST_CHANGE] = target
                return redirect(url_for("auth.change_password"))
            return redirect(target)
        g.login_failed = True
        audit_event(
            "login_failed", user=user, object_type="user", object_id=user.id if user else None, detail=f"email={email}"
        )
        # One message whatever was wrong, so nobody can find out which accounts exist.
        flash(_("The e-mail address or password is incorrect."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    end_session("logout")
    flash(_("You have logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        first = user.must_change_password
        changed = attempt(
            lambda: users.change_own_password(
                db.session, user, current_password=form.current_password.data, new_password=form.new_password.data
            ),
            form=form,
        )
        if changed:
            target = safe_next(session.pop(NEXT_AFTER_FIRST_CHANGE, None), "") or home_page(user)
            renew_session(user)
            if first:
                flash(_("Your password has been changed."), "success")
            else:
                flash(_("Your password has been changed. Other sessions of your account were logged out."), "success")
            return redirect(target)
    return render_template("auth/change_password.html", form=form)


def _link_refused(reason: str, status: int):
    response = render_template("auth/password_link_invalid.html", reason=reason)
    return response, status


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """The page a set-password link opens: its owner chooses a password and is logged in
    (docs/rules.md §11.8). A used, expired or replaced link explains itself."""
    g.private_link = True  # no caching, no Referer: the address holds the link's secret
    link = users.find_link(db.session, token)
    reason = users.link_problem(link)
    if reason is not None:
        return _link_refused(reason, 404 if reason == users.LINK_UNKNOWN else 410)
    if current_user.is_authenticated:
        # Somebody is logged in in this browser: the link is for its owner only.
        return _link_refused("logged_in", 409 if request.method == "POST" else 200)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = attempt(lambda: users.set_password_with_link(db.session, token, form.new_password.data), form=form)
        except users.LinkNotUsable as error:  # used in another tab a moment ago
            return _link_refused(error.reason, 410)
        if user:
            start_session(user)
            flash(_("Your password has been set. Welcome to the registry."), "success")
            return redirect(home_page(user))
    return render_template("auth/set_password.html", form=form, account=link.user, expires_at=link.expires_at)
