"""The coordinator's survey round pages: list and create, follow, remind, close, reopen,
and the frozen report with its CSV and PDF downloads (docs/rules.md §17)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from placements.codes import OPENING_TYPES
from placements.extensions import db
from placements.models import Organisation
from placements.permissions import COORDINATOR
from placements.rounds import bp, report_files
from placements.rounds.forms import ReopenForm, RoundForm
from placements.services import reference
from placements.services import round_report as report_service
from placements.services import rounds as round_service
from placements.web.access import roles_required
from placements.web.auditing import audit_event
from placements.web.downloads import csv_response
from placements.web.unit_of_work import attempt


def _round_form() -> RoundForm:
    form = RoundForm()
    form.municipalities.choices = list(reference.municipality_names(db.session).items())
    form.opening_types.choices = [(code, str(label)) for code, label in OPENING_TYPES.items()]
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.archived_at.is_(None)).order_by(Organisation.name)
    ).all()
    form.organisations.choices = [(oid, name) for oid, name in organisations]
    return form


@bp.route("/admin/rounds", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def round_list():
    rounds = round_service.all_rounds(db.session, current_user)
    form = _round_form()
    if form.validate_on_submit():
        created = attempt(
            lambda: round_service.create_round(
                db.session,
                current_user,
                name=form.name.data,
                reference_date=form.reference_date.data,
                period_start=form.period_start.data,
                period_end=form.period_end.data,
                deadline=form.deadline.data,
                municipalities=form.municipalities.data or (),
                opening_types=form.opening_types.data or (),
                organisation_ids=form.organisations.data or (),
            ),
            form=form,
        )
        if created:
            _round, job = created
            return redirect(url_for("jobs.job_page", job_id=job.id), code=303)
    return render_template("rounds/list.html", rounds=rounds, form=form)


@bp.get("/admin/rounds/<id:round_id>")
@roles_required(COORDINATOR)
def round_page(round_id: int):
    survey_round = round_service.round_or_404(db.session, current_user, round_id)
    following = round_service.follow(db.session, current_user, survey_round)
    return render_template("rounds/round.html", survey_round=survey_round, following=following)


@bp.post("/admin/rounds/<id:round_id>/remind")
@roles_required(COORDINATOR)
def round_remind(round_id: int):
    survey_round = round_service.round_or_404(db.session, current_user, round_id)
    count = attempt(lambda: round_service.remind(db.session, current_user, survey_round))
    if count is not None:
        flash(_("A reminder was sent to the hosts of %(count)s organisations.", count=count), "success")
    return redirect(url_for("rounds.round_page", round_id=round_id), code=303)


@bp.route("/admin/rounds/<id:round_id>/close", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def round_close(round_id: int):
    """A confirmation step first (docs/rules.md §11.10): closing freezes the figures."""
    survey_round = round_service.round_or_404(db.session, current_user, round_id)
    if request.method == "POST":
        if attempt(lambda: round_service.close_round(db.session, current_user, survey_round)):
            flash(_("The round is closed and its figures are frozen."), "success")
            return redirect(url_for("rounds.round_report", round_id=round_id), code=303)
        return redirect(url_for("rounds.round_page", round_id=round_id), code=303)
    return render_template("rounds/close.html", survey_round=survey_round)


@bp.route("/admin/rounds/<id:round_id>/reopen", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def round_reopen(round_id: int):
    survey_round = round_service.round_or_404(db.session, current_user, round_id)
    form = ReopenForm()
    if form.validate_on_submit():
        done = attempt(
            lambda: round_service.reopen_round(db.session, current_user, survey_round, reason=form.reason.data),
            form=form,
        )
        if done:
            flash(_("The round is open again."), "success")
            return redirect(url_for("rounds.round_page", round_id=round_id), code=303)
    return render_template("rounds/reopen.html", survey_round=survey_round, form=form)


def _closed_report(round_id: int):
    survey_round = round_service.round_or_404(db.session, current_user, round_id)
    if survey_round.status != "closed":
        abort(409, description=_("The report is made when the round closes."))
    return report_service.report(db.session, survey_round)


@bp.get("/admin/rounds/<id:round_id>/report")
@roles_required(COORDINATOR)
def round_report(round_id: int):
    report = _closed_report(round_id)
    audit_event("round_report_viewed", object_type="survey_round", object_id=round_id)
    return render_template("rounds/report.html", **report_files.context(report))


@bp.get("/admin/rounds/<id:round_id>/report.csv")
@roles_required(COORDINATOR)
def round_report_csv(round_id: int):
    report = _closed_report(round_id)
    excel_fi = request.args.get("dialect") == "excel-fi"
    audit_event("round_report_exported", object_type="survey_round", object_id=round_id, detail="csv")
    name = f"round-{round_id}{'-excel' if excel_fi else ''}.csv"
    return csv_response(report_files.csv_lines(report, excel_fi=excel_fi), name)


@bp.get("/admin/rounds/<id:round_id>/report.pdf")
@roles_required(COORDINATOR)
def round_report_pdf(round_id: int):
    report = _closed_report(round_id)
    audit_event("round_report_exported", object_type="survey_round", object_id=round_id, detail="pdf")
    return report_files.pdf_response(report, f"round-{round_id}.pdf")
