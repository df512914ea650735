"""Runs in a separate OS process: tries to accept placements, reports what happened."""

from __future__ import annotations


def accept_placements(
    database_url: str, instance_path: str, placement_ids: list[int], host_id: int, barrier, results
) -> None:
    from placements import clock, create_app
    from placements.extensions import db
    from placements.models import Placement, User
    from placements.services import placements as placement_service
    from tests.conftest import base_config

    app = create_app(base_config(database_url, instance_path))
    outcome = {"started": 0, "no_free_place": 0, "errors": []}
    with app.app_context():
        host = db.session.get(User, host_id)
        db.session.expunge(host)
        barrier.wait(timeout=60)
        for placement_id in placement_ids:
            placement = db.session.get(Placement, placement_id)
            try:
                placement_service.accept(db.session, placement, host, now=clock.now())
                db.session.commit()
                outcome["started"] += 1
            except placement_service.NoFreePlace:
                db.session.rollback()
                outcome["no_free_place"] += 1
            except Exception as error:  # reported to the test, which fails on any
                db.session.rollback()
                outcome["errors"].append(f"{type(error).__name__}: {error}")
        db.engine.dispose()
    results.put(outcome)
