"""Test data builders that go through the app's own services (importer, users)."""

from __future__ import annotations

import csv
import io
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from placements.models import Opening, Organisation, Site, User
from placements.permissions import SYSTEM
from placements.services.importer import import_sites
from placements.services.site_csv import COLUMNS, OPTIONAL_COLUMNS
from placements.services.users import create_user

PASSWORD = "correct horse battery staple"


def site_row(**overrides) -> dict[str, object]:
    """One valid CSV row (a KTT kitchen opening in central Kajaani); override any column."""
    row = {
        "site_ref": "TEST-001",
        "organisation": "Kajaanin Testiyhdistys ry",
        "organisation_kind": "association",
        "site_name": "Testikeittiö",
        "street_address": "Kauppakatu 1",
        "postal_code": "87100",
        "municipality_code": "205",
        "latitude": "64.2250",
        "longitude": "27.7300",
        "accessibility": "step_free_access|accessible_toilet",
        "contact_name": "Testi Henkilö",
        "contact_phone": "040 000 0000",
        "contact_email": "testi@example.fi",
        "opening_type": "rehabilitative_work",
        "opening_title": "Keittiöapulainen",
        "task_areas": "kitchen|cleaning",
        "days_per_week_min": "2",
        "days_per_week_max": "4",
        "hours_per_day_min": "4",
        "hours_per_day_max": "6",
        "places_total": "5",
        "places_external": "1",
        "supports": "work_instructor|meal_provided",
        "physical_demand": "light",
        "social_intensity": "medium",
        "languages": "fi",
        "status": "open",
        "description": "Lounaskeittiö.",
    }
    row.update({key: str(value) for key, value in overrides.items()})
    return row


def csv_bytes(rows: list[dict[str, object]], delimiter: str = ",", bom: bool = False, columns=None) -> bytes:
    columns = list(columns or COLUMNS)
    if any("last_confirmed" in row for row in rows) and "last_confirmed" not in columns:
        columns += list(OPTIONAL_COLUMNS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(name, "") for name in columns])
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


class Builder:
    def __init__(self, session: Session):
        self.session = session
        self._numbers = count(1)

    def sites(self, *rows: dict[str, object]) -> list[Site]:
        result = import_sites(self.session, csv_bytes(list(rows)), SYSTEM)
        assert result.ok, [str(p) for p in result.problems]
        self.session.commit()
        refs = {row["site_ref"] for row in rows}
        return list(self.session.scalars(select(Site).where(Site.site_ref.in_(refs)).order_by(Site.site_ref)))

    def site(self, **overrides) -> Site:
        return self.sites(site_row(**overrides))[0]

    def opening(self, **overrides) -> Opening:
        site = self.site(**overrides)
        return site.openings[0]

    def user(self, role: str = "social_worker", organisation: Organisation | None = None, **overrides) -> User:
        number = next(self._numbers)
        if role == "host" and organisation is None:
            organisation = self.site(
                site_ref=f"HOST-{number:03d}", organisation=f"Isäntäorganisaatio {number}"
            ).organisation
        user = create_user(
            self.session,
            SYSTEM,
            email=overrides.get("email", f"{role}{number}@example.fi"),
            name=overrides.get("name", f"Testi {role} {number}"),
            role=role,
            password=overrides.get("password", PASSWORD),
            organisation_id=organisation.id if organisation else None,
        )
        self.session.commit()
        return user

    # --- clients, needs and placements, through the same services as the app ---------------

    def client(
        self,
        owner: User,
        *,
        municipality_code: str = "205",
        home_postal_code: str | None = "87100",
        age_band: str = "30-39",
        gender: str = "female",
        share_with=(),
    ):
        from placements.services.clients import create_client

        client = create_client(
            self.session,
            owner,
            municipality_code=municipality_code,
            home_postal_code=home_postal_code,
            age_band=age_band,
            gender=gender,
            share_with=[u.id for u in share_with],
        )
        self.session.commit()
        return client

    def needs(self, client, owner: User, **overrides):
        from placements.services.clients import save_needs

        values = {
            "wanted_types": ("rehabilitative_work", "work_trial"),
            "task_areas": ("kitchen",),
            "days_per_week": 3,
            "hours_per_day": 5.0,
            "max_travel_km": 30,
            "needs_public_transport": False,
            "accessibility": (),
            "supports": (),
            "max_physical_demand": "heavy",
            "max_social_intensity": "high",
            "languages": ("fi",),
            "earliest_start": None,
            "note": "Luottamuksellinen tarvemuistiinpano",
        } | overrides
        needs = save_needs(self.session, client, owner, values)
        self.session.commit()
        return needs

    def placement(self, client, opening, worker: User, **overrides):
        from datetime import timedelta

        from placements import clock
        from placements.services.placements import add_months, propose

        start = overrides.pop("start_date", clock.today() + timedelta(days=7))
        values = {
            "days_per_week": 3,
            "hours_per_day": 5.0,
            "start_date": start,
            "planned_end": add_months(start, 6),
            "note_for_host": "Aloitetaan rauhassa.",
        } | overrides
        placement = propose(self.session, client, opening, worker, today=clock.today(), **values)
        self.session.commit()
        return placement
