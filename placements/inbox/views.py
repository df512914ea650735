"""The inbox (/notifications) and the preferences page (/account/preferences)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from placements.extensions import db
from placements.inbox import bp
from placements.inbox.forms import MarkAllReadForm, preferences_form
from placements.services import notifications
from placements.web.access import login_required
from placements.web.converters import bounded_int
from placements.web.redirects import safe_next
from placements.web.unit_of_work import attempt


@bp.get("/notifications")
@login_required
def inbox():
    page = bounded_int(request.args.get("page")) or 1
    items, pages = notifications.inbox(db.session, current_user, page=page)
    shown = [(item, notifications.describe(item)) for item in items]
    return render_template(
        "inbox/list.html", items=shown, page=min(max(page, 1), pages), pages=pages, form=MarkAllReadForm()
    )


@bp.get("/notifications/<id:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Mark it read and go where it points."""
    notification = notifications.open_notification(db.session, current_user, notification_id)
    return redirect(safe_next(notification.link, url_for("inbox.inbox")))


@bp.post("/notifications/read")
@login_required
def mark_all_read():
    form = MarkAllReadForm()
    if form.validate_on_submit():
        count = notifications.mark_all_read(db.session, current_user)
        flash(
            ngettext("%(num)s notification marked as read.", "%(num)s notifications marked as read.", count), "success"
        )
    return redirect(url_for("inbox.inbox"), 303)


@bp.route("/account/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    user = current_user._get_current_object()
    current = notifications.preferences(db.session, user)
    posted = request.form if request.method == "POST" else None
    form = preferences_form(current, formdata=posted, language=user.language)
    if form.validate_on_submit():
        chosen = {kind: form[f"kind_{kind}"].data for kind in current if f"kind_{kind}" in form}
        saved = attempt(
            lambda: notifications.save_preferences(db.session, user, user, choices=chosen, language=form.language.data),
            form=form,
        )
        if saved:
            session["lang"] = user.language
            flash(_("Your choices were saved."), "success")
            return redirect(url_for("inbox.preferences"), 303)
    kinds = [(kind, form[f"kind_{kind}"]) for kind in current if f"kind_{kind}" in form]
    return render_template("inbox/preferences.html", form=form, kinds=kinds)
