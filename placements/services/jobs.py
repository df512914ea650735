"""Long work in the background: a job table and a worker process (docs/rules.md §16).

A request never does long work itself. It adds a job (``enqueue``) and answers at once
with the job's page; a worker process (``flask jobs work``) claims the job and runs its
handler. The job's effects and its result commit together in one unit of work, as the
job's owner would have done them (same permission checks, audit origin "job"), so a job
is either done completely or not at all.

Progress and the heartbeat are written in their own short transactions, so the job's page
sees them while the job runs. A worker that dies (killed, machine restarted) stops its
heartbeat: after ``JOB_STALE_SECONDS`` its job is queued again and re-run from scratch in
a new transaction, or failed after ``MAX_ATTEMPTS``. Only the holder of a job's current
claim can finish it, so a job is never completed twice.

Handlers are registered by kind (``@handler("site_import_check")``) and return the
job's result as JSON-compatible data.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from placements import clock, permissions, unit_of_work
from placements.errors import PermissionDenied, Refused
from placements.models import Job, User
from placements.services import audit

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # runs of one job before it is failed for good
PROGRESS_INTERVAL = 0.5  # seconds between progress writes

Handler = Callable[["JobContext"], dict]
HANDLERS: dict[str, Handler] = {}


class JobFailed(Exception):
    """A handler's clear reason to stop; the job fails with this message, nothing is kept."""


class ClaimLost(Exception):
    """Another worker has taken the job over (this one was thought dead): stop, keep nothing."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def _load_handlers() -> None:
    from placements.services import rounds, schedule  # noqa: F401  (the daily notices, opening rounds)
    from placements.services.importer import jobs  # noqa: F401  (registers the import jobs)


# --- the web side ---------------------------------------------------------------------


def enqueue(session: Session, kind: str, *, owner, params: dict | None = None, key: str | None = None) -> Job:
    """Add a job for ``owner``; with ``key``, an existing job with that key is returned
    instead, so asking twice for the same work (a double click, a retried request) queues
    it once. Only flushes: the job starts once the caller's unit of work commits."""
    if key is not None:
        existing = find_by_key(session, key)
        if existing is not None:
            return existing
    job = Job(
        kind=kind,
        key=key,
        owner_id=getattr(owner, "id", None),
        params=json.dumps(params or {}),
        status="queued",
        done=0,
        total=0,
        attempts=0,
    )
    session.add(job)
    session.flush()
    return job


def find_by_key(session: Session, key: str) -> Job | None:
    return session.scalar(select(Job).where(Job.key == key))


def job_for(session: Session, user, job_id: int) -> Job:
    """The job, if ``user`` may see it (its owner or a coordinator, docs/rules.md §16.3);
    else 404, as if it did not exist."""
    job = session.get(Job, job_id)
    permissions.require(
        job is not None and permissions.can_view_job(user, job), status=404, object_type="job", object_id=job_id
    )
    return job


# --- the worker side --------------------------------------------------------------------


def _engine():
    from placements.extensions import db

    return db.engine


def _stale_after(app) -> timedelta:
    return timedelta(seconds=max(1, int(app.config.get("JOB_STALE_SECONDS", 120))))


@contextmanager
def _short_work() -> Iterator[Session]:
    """A short unit of work of its own (claims, progress, heartbeats), separate from the
    job's: committed at once, so other processes see it while the job runs."""
    session = Session(_engine())
    try:
        with unit_of_work.work(session):
            yield session
    finally:
        session.close()


def _set(session: Session, job_id: int, token: str, **values) -> bool:
    """Update the running job if ``token`` still holds its claim; whether it did."""
    query = update(Job).where(Job.id == job_id, Job.status == "running", Job.claimed_by == token)
    result = session.execute(query.values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


@dataclass
class _Reporter:
    """Progress and heartbeat of one running job."""

    job_id: int
    token: str
    lost: threading.Event = field(default_factory=threading.Event)
    _last: float = 0.0

    def progress(self, done: int, total: int) -> None:
        if self.lost.is_set():
            raise ClaimLost
        now = time.monotonic()
        if done < total and now - self._last < PROGRESS_INTERVAL:
            return
        self._last = now
        self._write(done=done, total=total)

    def beat(self) -> None:
        self._write()

    def _write(self, **values) -> None:
        try:
            with _short_work() as session:
                if not _set(session, self.job_id, self.token, heartbeat_at=clock.now(), **values):
                    self.lost.set()
        except OperationalError as error:  # SQLite busy while the job itself writes: next time
            log.info("Job %s: progress not written (%s)", self.job_id, type(error.orig).__name__)
        if self.lost.is_set():
            raise ClaimLost


class _Heartbeat(threading.Thread):
    """Renews the job's heartbeat while its handler works, also during long statements."""

    def __init__(self, app, reporter: _Reporter, interval: float):
        super().__init__(name=f"job-{reporter.job_id}-heartbeat", daemon=True)
        self.app, self.reporter, self.interval = app, reporter, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            while not self.stopped.wait(self.interval):
                try:
                    self.reporter.beat()
                except ClaimLost:
                    return
                except Exception:  # never let a heartbeat failure stop the job itself
                    log.exception("Job %s: heartbeat failed", self.reporter.job_id)


@dataclass
class JobContext:
    """What a handler gets: the job's unit of work, the acting user and the parameters."""

    session: Session
    job_id: int
    kind: str
    user: object
    params: dict
    config: dict
    _reporter: _Reporter

    def progress(self, done: int, total: int) -> None:
        """Tell the job's page how far the work has come (written at most twice a second).

        On SQLite only until the job's own first write: after that its transaction holds the
        database, and a progress write would wait for it in vain (the page shows the job
        running until it ends).
        """
        if self.session.info.get(_WROTE) and self.session.get_bind().dialect.name == "sqlite":
            return
        self._reporter.progress(done, total)

    def checkpoint(self, name: str) -> None:
        """A named point in a handler where a test can hold the job: with JOB_HOLD_FILE set,
        the worker creates ``<file>.<name>`` and waits while ``<file>`` exists."""
        hold = self.config.get("JOB_HOLD_FILE")
        if not hold:
            return
        Path(f"{hold}.{name}").touch()
        while Path(hold).exists():
            time.sleep(0.05)


def recover(app) -> int:
    """Queue again, or fail after MAX_ATTEMPTS, the running jobs whose worker has stopped
    reporting; returns how many were found."""
    cutoff = clock.now() - _stale_after(app)
    found = 0
    with _short_work() as session:
        stale = session.execute(
            select(Job.id, Job.attempts, Job.params).where(Job.status == "running", Job.heartbeat_at < cutoff)
        ).all()
        for job_id, attempts, params in stale:
            still_stale = (
                update(Job)
                .where(Job.id == job_id, Job.status == "running", Job.heartbeat_at < cutoff)
                .execution_options(synchronize_session=False)
            )
            if attempts >= MAX_ATTEMPTS:
                with _locale(app, params):
                    message = _(
                        "The job was interrupted %(count)s times and was stopped. Nothing of it was saved.",
                        count=attempts,
                    )
                values = {"status": "failed", "error": message, "finished_at": clock.now()}
            else:
                values = {"status": "queued", "claimed_by": None}
            if session.execute(still_stale.values(**values)).rowcount == 1:
                found += 1
                log.warning("Job %s lost its worker; %s", job_id, values["status"])
    return found


def claim(token: str) -> int | None:
    """Take the oldest queued job for this worker; only one worker can take a job.

    PostgreSQL skips rows other workers are claiming (``FOR UPDATE SKIP LOCKED``); on
    SQLite, which has one writer at a time, the conditional UPDATE decides.
    """
    now = clock.now()
    with _short_work() as session:
        candidates = session.scalars(
            select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(5).with_for_update(skip_locked=True)
        ).all()
        for job_id in candidates:
            taken = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "queued")
                .values(
                    status="running",
                    claimed_by=token,
                    attempts=Job.attempts + 1,
                    started_at=now,
                    heartbeat_at=now,
                    done=0,
                    error=None,
                )
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:
                return job_id
    return None


def _locale(app, params: str | dict | None):
    """Messages of a job are written in the language its owner used (docs/rules.md §16.4)."""
    if isinstance(params, str):
        params = json.loads(params or "{}")
    locale = (params or {}).get("locale")
    return force_locale(locale if locale in ("fi", "en") else app.config.get("BABEL_DEFAULT_LOCALE", "fi"))


def _finish(session: Session, job_id: int, token: str, result: dict) -> None:
    """Mark the job done in the job's own unit of work, if this worker still holds it."""
    done = _set(
        session,
        job_id,
        token,
        status="done",
        result=json.dumps(result, ensure_ascii=False),
        done=Job.total,
        finished_at=clock.now(),
        heartbeat_at=clock.now(),
    )
    if not done:
        raise ClaimLost


def _end(job_id: int, token: str, *, error: str | None, retry: bool = False) -> None:
    """After the job's unit of work was rolled back: fail it with ``error``, or queue it
    again when ``retry`` and attempts remain."""
    with _short_work() as session:
        attempts = session.scalar(select(Job.attempts).where(Job.id == job_id)) or 0
        if retry and attempts < MAX_ATTEMPTS:
            _set(session, job_id, token, status="queued", claimed_by=None)
        else:
            _set(session, job_id, token, status="failed", error=(error or "")[:1000], finished_at=clock.now())


def _owner(session: Session, owner_id: int | None):
    if owner_id is None:
        return permissions.SYSTEM
    user = session.get(User, owner_id)
    if user is None or not user.active:
        raise JobFailed(_("The account that started this job is no longer active. Nothing was done."))
    return user


def _run(app, job_id: int, token: str) -> None:
    _load_handlers()
    with _short_work() as session:
        kind, owner_id, params_text = session.execute(
            select(Job.kind, Job.owner_id, Job.params).where(Job.id == job_id)
        ).one()
    params = json.loads(params_text or "{}")
    config = app.config
    reporter = _Reporter(job_id, token)
    interval = max(0.2, min(10.0, _stale_after(app).total_seconds() / 4))
    heartbeat = _Heartbeat(app, reporter, interval)
    heartbeat.start()
    try:
        with _locale(app, params):
            _run_handler(job_id, token, kind, owner_id, params, config, reporter)
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=30)


_WROTE = "job_wrote"


def _note_writes(session: Session) -> None:
    """Mark ``session.info`` once the job's transaction has written (a flush or a bulk statement)."""

    def flushed(session, _context) -> None:
        session.info[_WROTE] = True

    def executed(state) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            state.session.info[_WROTE] = True

    event.listen(session, "after_flush", flushed)
    event.listen(session, "do_orm_execute", executed)


def _run_handler(job_id, token, kind, owner_id, params, config, reporter) -> None:
    session = Session(_engine())
    _note_writes(session)
    try:
        with audit.origin("job"), unit_of_work.work(session):
            function = HANDLERS.get(kind)
            if function is None:
                raise JobFailed(_("This kind of job cannot be run here."))
            context = JobContext(session, job_id, kind, _owner(session, owner_id), params, config, reporter)
            result = function(context)
            _finish(session, job_id, token, result or {})
        log.info("Job %s (%s) done", job_id, kind)
    except ClaimLost:
        log.warning("Job %s (%s): another worker took it over; this run kept nothing", job_id, kind)
    except JobFailed as error:
        _end(job_id, token, error=str(error))
    except Refused as error:
        _end(job_id, token, error=" ".join(str(message) for message in error.problems.values()))
    except PermissionDenied:
        _end(job_id, token, error=_("The account that started this job may not do this. Nothing was done."))
    except (StaleDataError, IntegrityError) as error:
        log.warning("Job %s (%s): the data changed while it ran (%s)", job_id, kind, type(error).__name__)
        _end(
            job_id,
            token,
            error=_(
                "The registry kept changing while the job was running, so it was stopped. Nothing of it was saved."
            ),
            retry=True,
        )
    except Exception:
        log.exception("Job %s (%s) failed", job_id, kind)
        _end(job_id, token, error=_("The job stopped because of an unexpected error. Nothing of it was saved."))
    finally:
        session.close()


def worker_token() -> str:
    """Who holds a claim: the host, the process and a random part (unique per claim)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def run_once(app) -> int | None:
    """Recover abandoned jobs, then run the oldest queued job; returns its id, or None
    when nothing was waiting. Runs inside ``app``'s application context; tests call this
    to run a job in their own process."""
    recover(app)
    token = worker_token()
    job_id = claim(token)
    if job_id is None:
        return None
    _run(app, job_id, token)
    return job_id


def work(
    app, *, once: bool = False, poll: float = 1.0, stop: threading.Event | None = None, duties: bool = False
) -> int:
    """Run jobs until ``stop`` is set (or, with ``once``, until none is waiting); returns
    how many were run. Between jobs the worker waits ``poll`` seconds; with ``duties`` it
    also does its own errands then (sending mail, queueing the day's notices)."""
    stop = stop or threading.Event()
    errands = None
    if duties:
        from placements.services.schedule import Duties

        errands = Duties(app)
    count = 0
    while not stop.is_set():
        try:
            if errands is not None:
                errands.run()
            ran = run_once(app)
        except OperationalError:
            if once:
                raise
            # The database went away (a restart, the network): a job that was running is
            # run again once its heartbeat is old; wait and try again.
            log.exception("The database did not answer; trying again shortly")
            stop.wait(max(poll, 5.0))
            continue
        if ran is not None:
            count += 1
            continue
        if once:
            break
        stop.wait(poll)
    return count
