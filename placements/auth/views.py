"""Log in, log out, change password."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from placements.auth import bp
from placements.auth.forms import ChangePasswordForm, LoginForm
from placements.auth.sessions import end_session, renew_session, start_session
from placements.extensions import db, limiter
from placements.models import User
from placements.services.passwords import hash_password, needs_rehash, policy_problems, verify_password
from placements.web.access import login_required
from placements.web.auditing import audit_event
from placements.web.redirects import safe_next

# Failed logins allowed in the window; the next attempt gets 429 (counted in RATELIMIT_STORAGE_URI,
# so several app servers share the count).
ACCOUNT_LIMIT = "5 per 15 minutes"
ADDRESS_LIMIT = "30 per 15 minutes"


def _account_key() -> str:
    return "login-account:" + request.form.get("email", "").strip().lower()


def _login_failed(response) -> bool:
    return bool(g.get("login_failed"))


def _next_page(user: User) -> str:
    """Where to go after login: the page asked for (kept in the session, never in the query
    string), else the role's first screen; a host's is the list of stale openings."""
    target = safe_next(session.pop("next", None), "")
    if target:
        return target
    if user.role == "host":
        return url_for("catalogue.my_sites")
    if user.role == "social_worker":
        return url_for("clients.client_list")
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(ACCOUNT_LIMIT, key_func=_account_key, methods=["POST"], deduct_when=_login_failed, scope="login-account")
@limiter.limit(ADDRESS_LIMIT, methods=["POST"], deduct_when=_login_failed, scope="login-address")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        password_ok = verify_password(user.password_hash if user else None, form.password.data)
        if user is not None and password_ok and user.active:
            target = _next_page(user)
            start_session(user)
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            return redirect(url_for("auth.change_password") if user.must_change_password else target)
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
        problems = []
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("The current password is incorrect."))
            problems.append("current")
        policy = policy_problems(form.new_password.data, user.email)
        form.new_password.errors.extend(policy)
        if form.new_password.data == form.current_password.data:
            form.new_password.errors.append(_("The new password must differ from the current one."))
            problems.append("same")
        if not problems and not policy:
            user.password_hash = hash_password(form.new_password.data)
            user.must_change_password = False
            renew_session(user)
            audit_event("password_changed", object_type="user", object_id=user.id)
            flash(_("Your password has been changed. Other sessions of your account were logged out."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form)
