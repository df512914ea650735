"""/jobs/<id>: progress while the job runs (refreshed by static/js/job.js), then its result.

Only the job's owner and coordinators see a job (docs/rules.md §16.3); anyone else gets
404, as if it did not exist.
"""

from __future__ import annotations

from flask import jsonify, render_template
from flask_login import current_user

from placements import clock
from placements.extensions import db
from placements.jobs import bp
from placements.services import jobs
from placements.services.importer import ImportResult
from placements.services.importer import jobs as import_jobs
from placements.web.access import login_required

# The page of a finished job, by kind; jobs without one show only their status.
RESULT_TEMPLATES = {
    import_jobs.CHECK: "admin/import_preview.html",
    import_jobs.APPLY: "admin/import_done.html",
}
# A job waiting longer than this without a worker gets a hint on its page.
WAITING_HINT_SECONDS = 30


@bp.get("/<id:job_id>")
@login_required
def job_page(job_id: int):
    job = jobs.job_for(db.session, current_user, job_id)
    if job.status == "done" and job.kind in RESULT_TEMPLATES:
        context = {}
        if job.kind in (import_jobs.CHECK, import_jobs.APPLY):
            context = _import_context(job)
        return render_template(RESULT_TEMPLATES[job.kind], job=job, **context)
    waiting = (clock.now() - job.created_at).total_seconds() if job.status == "queued" else 0
    return render_template("jobs/job.html", job=job, waiting_long=waiting > WAITING_HINT_SECONDS)


@bp.get("/<id:job_id>/progress")
@login_required
def job_progress(job_id: int):
    """The job's status as JSON, for the page's progress bar."""
    job = jobs.job_for(db.session, current_user, job_id)
    response = jsonify(status=job.status, done=job.done, total=job.total, percent=job.percent, finished=job.finished)
    response.headers["Cache-Control"] = "no-store"
    return response


def _import_context(job) -> dict:
    outcome = job.outcome or {}
    result = ImportResult.from_json(outcome)
    context = {"result": result, "filename": outcome.get("filename", ""), "confirm_token": None, "applied_by": None}
    token = outcome.get("token")
    if job.kind == import_jobs.CHECK and result.ok and token and job.owner_id == current_user.id:
        context["applied_by"] = import_jobs.apply_job(db.session, current_user, token)
        if context["applied_by"] is None and import_jobs.pending_upload(db.session, current_user, token):
            context["confirm_token"] = token
    return context
