"""No overbooking, ever: 8 OS processes race to fill an opening with 10 free places."""

from __future__ import annotations

import gc
import multiprocessing
from multiprocessing import resource_tracker

import pytest
from sqlalchemy import func, select

from placements.models import CapacityEvent, Opening, Placement
from tests.concurrency_worker import accept_placements

PROCESSES, ATTEMPTS, FREE = 8, 5, 10


def _race(url: str, instance_path: str, ids: list[int], host_id: int) -> tuple[list[dict], list[int | None]]:
    """Each process tries ATTEMPTS acceptances at once; their reports and exit codes.
    Whatever happens, no process is left running."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    processes = [
        context.Process(
            target=accept_placements,
            args=(url, instance_path, ids[n * ATTEMPTS : (n + 1) * ATTEMPTS], host_id, barrier, results),
        )
        for n in range(PROCESSES)
    ]
    try:
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        return outcomes, [process.exitcode for process in processes]
    finally:
        for process in processes:
            if process.pid is not None and process.is_alive():  # only when something above failed
                process.kill()
                process.join(timeout=10)
        results.close()
        results.join_thread()


@pytest.fixture
def stop_resource_tracker():
    """Processes started with "spawn" start multiprocessing's resource tracker, which would
    otherwise run until pytest exits. Stop it once the test's semaphores are gone."""
    try:
        yield
    finally:
        gc.collect()  # a collected semaphore unregisters itself, which needs the tracker
        resource_tracker._resource_tracker._stop()  # the stdlib's own shutdown (3.11.7+)


def test_eight_processes_never_overbook(app, db, build, tmp_path, stop_resource_tracker):
    site = build.site(
        opening_type="work_trial",
        opening_title="Kilpailtu",
        days_per_week_max="5",
        places_total=str(FREE),
        places_external="0",
    )
    opening = site.openings[0]
    worker = build.user("social_worker")
    host = build.user("host", organisation=site.organisation)
    ids = [
        build.placement(build.client(worker), opening, worker, planned_end=None).id for _ in range(PROCESSES * ATTEMPTS)
    ]
    url, host_id, opening_id = db.engine.url.render_as_string(hide_password=False), host.id, opening.id
    db.session.remove()

    outcomes, exit_codes = _race(url, str(tmp_path), ids, host_id)

    assert exit_codes == [0] * PROCESSES
    assert [error for o in outcomes for error in o["errors"]] == []
    assert sum(o["started"] for o in outcomes) == FREE
    assert sum(o["no_free_place"] for o in outcomes) == PROCESSES * ATTEMPTS - FREE
    db.session.expire_all()
    active = db.session.scalar(
        select(func.count())
        .select_from(Placement)
        .where(Placement.opening_id == opening_id, Placement.status == "active")
    )
    stored = db.session.get(Opening, opening_id)
    assert active == stored.places_taken == FREE and stored.free_places == 0
    started = db.session.scalar(
        select(func.count()).select_from(CapacityEvent).where(CapacityEvent.kind == "placement_started")
    )
    assert started == FREE
