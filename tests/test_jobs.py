"""Jobs (docs/rules.md §16): queued by a request, run by a worker as their owner, all or
nothing, exactly once, and picked up again when their worker dies."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from placements import clock
from placements.models import AuditEvent, Job, Organisation, User
from placements.permissions import SYSTEM
from placements.services import audit, jobs
from tests.conftest import run_job, run_jobs

EXAMPLE = "test_example"


@jobs.handler(EXAMPLE)
def _example(context: jobs.JobContext) -> dict:
    """A job that writes an organisation and an audit event, unless told to fail."""
    behaviour = context.params.get("behaviour", "ok")
    context.session.add(Organisation(name=context.params.get("name", "Työn järjestö"), kind="association"))
    audit.record(context.session, "sites_import", user=context.user, object_type="site", detail="example")
    context.progress(1, 2)
    if behaviour == "crash":
        raise RuntimeError("boom")
    if behaviour == "refuse":
        raise jobs.JobFailed("Ei onnistu.")
    if behaviour == "stale":
        raise StaleDataError("someone else changed the row")
    if behaviour == "steal":  # another worker takes the job over while this one still runs
        with Session(context.session.get_bind()) as other:
            other.execute(update(Job).where(Job.id == context.job_id).values(claimed_by="another-worker"))
            other.commit()
    if behaviour == "progress":
        context.progress(2, 2)
        with Session(context.session.get_bind()) as other:
            seen = other.execute(select(Job.done, Job.total).where(Job.id == context.job_id)).one()
        return {"seen_from_outside": list(seen), "user": getattr(context.user, "email", None)}
    return {"user": getattr(context.user, "email", None)}


def _job(db, job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def _organisations(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


def _enqueue(db, owner=SYSTEM, **params) -> int:
    job = jobs.enqueue(db.session, EXAMPLE, owner=owner, params=params)
    db.session.commit()
    return job.id


def test_a_job_runs_as_its_owner_and_commits_its_effects_with_its_result(db, build):
    coordinator = build.user("coordinator")
    job_id = _enqueue(db, coordinator)

    assert run_job() == job_id

    job = _job(db, job_id)
    assert (job.status, job.attempts, job.error) == ("done", 1, None)
    assert job.outcome == {"user": coordinator.email}
    assert job.started_at <= job.finished_at and job.percent == 100
    assert _organisations(db) == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.detail == "example")).one()
    assert (event.user_email, event.ip_address) == (coordinator.email, "job")  # the owner, from a job


def test_nothing_waiting_runs_nothing(db):
    assert run_job() is None
    assert run_jobs() == 0


def test_progress_is_visible_to_others_while_the_job_runs(db):
    job_id = _enqueue(db, behaviour="progress")
    run_job()
    assert _job(db, job_id).outcome["seen_from_outside"] == [2, 2]


@pytest.mark.parametrize(
    "behaviour, message",
    [
        ("crash", "Käsittely keskeytyi odottamattoman virheen vuoksi. Siitä ei tallennettu mitään."),
        ("refuse", "Ei onnistu."),
    ],
)
def test_a_failing_job_keeps_nothing_and_says_why(db, behaviour, message):
    job_id = _enqueue(db, behaviour=behaviour)
    run_job()

    job = _job(db, job_id)
    assert (job.status, job.error, job.result) == ("failed", message, None)
    assert _organisations(db) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_job_that_meets_changed_data_is_run_again_then_failed(db):
    job_id = _enqueue(db, behaviour="stale")
    assert run_jobs() == jobs.MAX_ATTEMPTS  # queued again after each try

    job = _job(db, job_id)
    assert (job.status, job.attempts) == ("failed", jobs.MAX_ATTEMPTS)
    assert "muuttui" in job.error and _organisations(db) == 0


def test_a_job_whose_owner_was_deactivated_does_nothing(db, build):
    coordinator = build.user("coordinator")
    job_id = _enqueue(db, coordinator)
    db.session.execute(update(User).where(User.id == coordinator.id).values(active=False))
    db.session.commit()

    run_job()

    job = _job(db, job_id)
    assert job.status == "failed" and "ei ole enää käytössä" in job.error
    assert _organisations(db) == 0


def test_an_unknown_kind_fails_cleanly(db):
    job = jobs.enqueue(db.session, "no_such_kind", owner=SYSTEM)
    db.session.commit()
    run_job()
    assert _job(db, job.id).status == "failed"


def test_a_worker_that_lost_its_claim_keeps_nothing(db):
    job_id = _enqueue(db, behaviour="steal")
    run_job()

    job = _job(db, job_id)
    assert (job.status, job.claimed_by) == ("running", "another-worker")  # the other worker finishes it
    assert _organisations(db) == 0


def test_only_one_worker_claims_a_job(db):
    job_id = _enqueue(db)
    assert jobs.claim("worker-a") == job_id
    assert jobs.claim("worker-b") is None
    assert _job(db, job_id).claimed_by == "worker-a"


def test_jobs_run_oldest_first(db):
    first, second = _enqueue(db, name="Eka"), _enqueue(db, name="Toka")
    assert [run_job(), run_job()] == [first, second]


def test_enqueueing_with_a_key_twice_queues_once(db):
    first = jobs.enqueue(db.session, EXAMPLE, owner=SYSTEM, key="same-work")
    again = jobs.enqueue(db.session, EXAMPLE, owner=SYSTEM, key="same-work")
    db.session.commit()
    assert first.id == again.id
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1


def _make_stale(db, job_id: int, attempts: int) -> None:
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            status="running",
            claimed_by="dead-worker",
            attempts=attempts,
            heartbeat_at=clock.now() - timedelta(seconds=600),
        )
    )
    db.session.commit()


def test_a_job_whose_worker_died_is_run_again_from_scratch(db):
    job_id = _enqueue(db)
    _make_stale(db, job_id, attempts=1)

    assert run_job() == job_id

    job = _job(db, job_id)
    assert (job.status, job.attempts) == ("done", 2)
    assert _organisations(db) == 1


def test_a_job_interrupted_too_often_fails_with_a_clear_message(app, db):
    job_id = _enqueue(db)
    _make_stale(db, job_id, attempts=jobs.MAX_ATTEMPTS)

    assert jobs.recover(app) == 1
    job = _job(db, job_id)
    assert job.status == "failed"
    assert job.error == "Käsittely keskeytyi 3 kertaa, ja se lopetettiin. Siitä ei tallennettu mitään."
    assert run_job() is None and _organisations(db) == 0


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(app, db):
    job_id = _enqueue(db)
    assert jobs.claim("busy-worker") == job_id
    assert jobs.recover(app) == 0
    assert _job(db, job_id).claimed_by == "busy-worker"


def test_messages_are_in_the_language_the_owner_used(db):
    job_id = _enqueue(db, behaviour="crash", locale="en")
    run_job()
    assert _job(db, job_id).error == "The job stopped because of an unexpected error. Nothing of it was saved."


def test_the_job_table_refuses_an_unknown_status(db):
    from sqlalchemy.exc import IntegrityError

    job_id = _enqueue(db)
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE jobs SET status = 'lost' WHERE id = :id"), {"id": job_id})
        db.session.flush()
    db.session.rollback()


# --- the job's page ------------------------------------------------------------------------


def test_the_owner_follows_progress_then_sees_the_result(client, db, build, login):
    worker = build.user("social_worker")
    job_id = _enqueue(db, worker)
    login(worker)

    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<progress id="job-progress-bar" max="100" value="0">' in html
    assert "Odottaa alkamista" in html and 'src="/static/js/job.js?v=' in html
    progress = client.get(f"/jobs/{job_id}/progress")
    assert progress.get_json() == {"status": "queued", "done": 0, "total": 0, "percent": 0, "finished": False}
    assert progress.headers["Cache-Control"] == "no-store"

    run_job()
    assert client.get(f"/jobs/{job_id}/progress").get_json()["finished"] is True
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Käsittely on valmis." in html and "<progress" not in html and "job.js" not in html


def test_a_failed_job_shows_its_error(client, db, build, login):
    coordinator = build.user("coordinator")
    job_id = _enqueue(db, coordinator, behaviour="refuse")
    run_job()
    login(coordinator)
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Käsittely epäonnistui. Siitä ei tallennettu mitään." in html and "Ei onnistu." in html


def test_a_long_wait_suggests_checking_the_worker(client, db, build, login):
    coordinator = build.user("coordinator")
    job_id = _enqueue(db, coordinator)
    login(coordinator)
    assert "flask jobs work" not in client.get(f"/jobs/{job_id}").get_data(as_text=True)
    with clock.fixed(clock.now() + timedelta(minutes=5)):
        assert "flask jobs work" in client.get(f"/jobs/{job_id}").get_data(as_text=True)


@pytest.mark.parametrize("role", ["host", "social_worker"])
def test_other_users_do_not_see_a_job(client, db, build, login, role):
    owner = build.user("social_worker")
    job_id = _enqueue(db, owner)
    login(build.user(role))
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get(f"/jobs/{job_id}/progress").status_code == 404
    assert client.get("/jobs/999999").status_code == 404
    denial = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permission_denied")).first()
    assert denial is not None and denial.object_type == "job"


def test_a_coordinator_sees_any_job(client, db, build, login):
    job_id = _enqueue(db, build.user("social_worker"))
    login(build.user("coordinator"))
    assert client.get(f"/jobs/{job_id}").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    job_id = _enqueue(db)
    response = client.get(f"/jobs/{job_id}")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


# --- the command ---------------------------------------------------------------------------


def test_flask_jobs_work_once_runs_what_is_waiting(runner, db):
    first, second = _enqueue(db, name="Eka"), _enqueue(db, name="Toka")
    result = runner.invoke(args=["jobs", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert [_job(db, first).status, _job(db, second).status] == ["done", "done"]

    listing = runner.invoke(args=["jobs", "list"])
    assert listing.exit_code == 0
    # Newest first; the worker may also have queued the day's notices (docs/rules.md §16.5).
    lines = [line for line in listing.output.splitlines() if f"\t{EXAMPLE}\t" in line]
    assert lines[0].startswith(f"{second}\t{EXAMPLE}\tdone")


def test_job_results_are_stored_as_json(db):
    job_id = _enqueue(db)
    run_job()
    raw = db.session.scalar(select(Job.result).where(Job.id == job_id))
    assert json.loads(raw) == {"user": None}


class _NoWaiting(threading.Event):
    def wait(self, timeout=None) -> bool:
        return self.is_set()


def test_the_worker_waits_out_a_database_outage(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    calls, stop = [], _NoWaiting()

    def database_gone_then_back(app_):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        stop.set()
        return None

    monkeypatch.setattr(jobs, "run_once", database_gone_then_back)
    assert jobs.work(app, stop=stop) == 0
    assert len(calls) == 2  # it kept going after the outage
    with pytest.raises(OperationalError):
        calls.clear()
        jobs.work(app, once=True)  # `--once` reports it instead


WRITES_THEN_REPORTS = "test_writes_then_reports"


@jobs.handler(WRITES_THEN_REPORTS)
def _writes_then_reports(context: jobs.JobContext) -> dict:
    context.session.add(Organisation(name="Kirjoittava järjestö", kind="association"))
    context.session.flush()  # the job's transaction now holds a write
    started = time.monotonic()
    for done in range(1, 4):
        context.progress(done, 3)
    return {"seconds": time.monotonic() - started}


def test_progress_after_the_jobs_own_writes_never_waits_for_the_database(db):
    """On SQLite a progress write after the job's first write would wait for the job's own
    transaction (docs/rules.md §16.2): it is skipped there, written on PostgreSQL."""
    job = jobs.enqueue(db.session, WRITES_THEN_REPORTS, owner=SYSTEM)
    db.session.commit()
    assert run_job() == job.id
    done = _job(db, job.id)
    assert done.status == "done" and json.loads(done.result)["seconds"] < 1.0
    assert _organisations(db) == 1
