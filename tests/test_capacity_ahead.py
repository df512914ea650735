"""Places freeing in the next 30/60/90 days from planned ends (docs/rules.md §8.8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from placements import clock
from placements.models import Placement
from placements.services import capacity_ahead

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # Saturday 28.11.2026 in Finland


@pytest.fixture
def openings(db, build):
    """One opening with placements ending at known distances from today, one with none."""
    busy = build.site(site_ref="BUSY", places_total="9", places_external="0").openings[0]
    quiet = build.site(site_ref="QUIET", opening_title="Hiljainen").openings[0]
    worker = build.user("social_worker")
    person = build.client(worker)
    today = NOW.date()

    def placed(status, days, start_days=-30):
        db.session.add(
            Placement(
                client_id=person.id,
                opening_id=busy.id,
                status=status,
                days_per_week=3,
                hours_per_day=5.0,
                start_date=today + timedelta(days=start_days),
                planned_end=None if days is None else today + timedelta(days=days),
                ended_on=today - timedelta(days=1) if status == "ended" else None,
                end_reason="completed" if status == "ended" else None,
            )
        )

    for days in (0, 30):  # today and the 30th day: within 30
        placed("active", days)
    for days in (31, 60):  # within 60
        placed("active", days)
    placed("active", 90)  # within 90
    placed("active", 91)  # too far
    placed("active", -1)  # planned end passed, still running: no longer a forecast
    placed("active", None)  # open-ended
    placed("proposed", 10)  # the host has not accepted it
    placed("ended", 20)  # ended early: its place is already free
    placed("active", 45, start_days=14)  # accepted, starts later: frees on its planned end too
    db.session.commit()
    return busy, quiet


def test_places_freeing_by_hand(db, openings):
    busy, quiet = openings
    with clock.fixed(NOW):
        found = capacity_ahead.freeing(db.session, [busy.id, quiet.id], today=clock.today())
    assert found == {busy.id: capacity_ahead.Ahead(within_30=2, within_60=5, within_90=6)}
    assert found.get(quiet.id, capacity_ahead.NONE).any is False


def test_one_query_for_a_page_of_openings(db, openings):
    ids = [opening.id for opening in openings]
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        capacity_ahead.freeing(db.session, ids + ids, today=NOW.date())
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert capacity_ahead.freeing(db.session, [], today=NOW.date()) == {}


def test_site_page_and_list_show_places_freeing_to_signed_in_users(app, db, build, openings, login, client):
    busy, quiet = openings
    login(build.user("social_worker"))
    with clock.fixed(NOW):
        page = client.get(f"/sites/{busy.site_id}").get_data(as_text=True)
        listing = client.get("/sites").get_data(as_text=True)
        other = client.get(f"/sites/{quiet.site_id}").get_data(as_text=True)
    assert "Vapautuvat paikat" in page
    for text in ("30 päivän sisällä: 2", "60 päivän sisällä: 5", "90 päivän sisällä: 6"):
        assert text in page and text in listing
    assert "Ei suunniteltuja päättymisiä seuraavan 90 päivän aikana." in other
    assert listing.count("Vapautuvat paikat") == 1  # the quiet opening's line is left out


def test_anonymous_visitors_of_a_public_catalogue_see_no_planned_ends(app, db, openings, client):
    busy, _quiet = openings
    app.config["PUBLIC_CATALOGUE"] = True
    with clock.fixed(NOW):
        page = client.get(f"/sites/{busy.site_id}")
    assert page.status_code == 200 and "Vapautuvat paikat" not in page.get_data(as_text=True)
