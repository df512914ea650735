"""Fill a database with national-scale invented data, quickly, for benchmarks.

    DATABASE_URL=sqlite:///bench/out/national.db python bench/generate.py --sites 10000

Migrates the database first. Sites get Finland-wide coordinates (their postal codes and
municipalities are Kainuu's, the only ones in the reference data) and 1–3 openings each,
every opening with the capacity event of its creation. Rows are bulk-inserted in batches.
Refuses a database that already has sites unless --append is given.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.machine import print_machine  # noqa: E402
from placements import codes  # noqa: E402

BATCH = 2000
# Mainland Finland, roughly: (lat, lon) boxes weighted by where people live.
REGIONS = [
    ((60.0, 61.5), (21.5, 30.0), 6),
    ((61.5, 63.5), (21.5, 31.0), 4),
    ((63.5, 66.0), (23.0, 30.5), 2),
    ((66.0, 69.5), (23.5, 29.5), 1),
]
WORDS = [
    "Työpaja",
    "Kierrätyskeskus",
    "Kahvila",
    "Puutarha",
    "Verstas",
    "Keittiö",
    "Pesula",
    "Varasto",
    "Toimisto",
    "Palvelukoti",
    "Terminaali",
    "Myymälä",
]
TITLES = {
    "rehabilitative_work": "Kuntouttava työtoiminta",
    "work_trial": "Työkokeilu",
    "pay_subsidy": "Palkkatuettu työ",
    "ips_job": "IPS-työpaikka",
}
PLACES = ["Kaupunki", "Kylä", "Keskus", "Ranta", "Mäki", "Niemi", "Harju", "Lahti", "Joki", "Salmi"]


def point(rng: random.Random) -> tuple[float, float]:
    (lat0, lat1), (lon0, lon1), _ = rng.choices(REGIONS, weights=[r[2] for r in REGIONS])[0]
    return round(rng.uniform(lat0, lat1), 5), round(rng.uniform(lon0, lon1), 5)


def schedule(rng: random.Random, kind: str) -> tuple[int, int, float, float]:
    if kind == "rehabilitative_work":
        low = rng.randint(1, 3)
        return low, rng.randint(low, 4), 4.0, float(rng.choice([4, 5, 6]))
    low = rng.randint(2, 5)
    return low, 5, float(rng.choice([4, 5, 6])), float(rng.choice([6, 7.5, 8]))


def codes_cell(values) -> tuple[str, ...]:
    """Codes as the CodeList column type takes them."""
    return tuple(sorted(set(values)))


def generate(session, sites: int, seed: int, now: datetime) -> tuple[int, int]:
    from placements.models import CapacityEvent, Opening, Organisation, PostalCode, Site

    rng = random.Random(seed)
    postal = [
        (p.code, p.municipality_code) for p in session.scalars(select(PostalCode).where(PostalCode.type_code == 1))
    ]
    start_org = (session.scalar(select(func.max(Organisation.id))) or 0) + 1
    org_count = max(sites // 20, 1)
    session.execute(
        insert(Organisation),
        [
            {
                "id": start_org + i,
                "name": f"Järjestäjä {start_org + i} {rng.choice(PLACES)}",
                "kind": rng.choice(list(codes.ORGANISATION_KINDS)),
                "created_at": now,
            }
            for i in range(org_count)
        ],
    )
    start_site = (session.scalar(select(func.max(Site.id))) or 0) + 1
    start_opening = (session.scalar(select(func.max(Opening.id))) or 0) + 1
    opening_id = start_opening
    site_rows, opening_rows, event_rows = [], [], []
    access_codes, task_codes, support_codes = list(codes.ACCESSIBILITY), list(codes.TASK_AREAS), list(codes.SUPPORTS)
    types = list(codes.OPENING_TYPES)

    def flush():
        if site_rows:
            session.execute(insert(Site), site_rows)
        if opening_rows:
            session.execute(insert(Opening), opening_rows)
        if event_rows:
            session.execute(insert(CapacityEvent), event_rows)
        site_rows.clear(), opening_rows.clear(), event_rows.clear()

    for offset in range(sites):
        site_id = start_site + offset
        lat, lon = point(rng)
        code, municipality = rng.choice(postal)
        name = f"{rng.choice(WORDS)} {rng.choice(PLACES)} {site_id}"
        titles = []
        for _ in range(rng.choice([1, 2, 2, 3])):
            kind = rng.choice(types)
            days_min, days_max, hours_min, hours_max = schedule(rng, kind)
            total = rng.randint(1, 12)
            external = rng.randint(0, total) if rng.random() < 0.5 else 0
            confirmed = now - timedelta(days=rng.choice([1, 5, 20, 40, 90, 200]))
            title = f"{TITLES[kind]} {opening_id}"
            titles.append(title)
            opening_rows.append(
                {
                    "id": opening_id,
                    "uuid": str(uuid.uuid4()),
                    "site_id": site_id,
                    "type": kind,
                    "title": title,
                    "task_areas": codes_cell(rng.sample(task_codes, rng.randint(1, 3))),
                    "days_per_week_min": days_min,
                    "days_per_week_max": days_max,
                    "hours_per_day_min": hours_min,
                    "hours_per_day_max": hours_max,
                    "places_total": total,
                    "places_external": external,
                    "places_taken": 0,
                    "supports": codes_cell(rng.sample(support_codes, rng.randint(0, 3))),
                    "physical_demand": rng.choice(list(codes.PHYSICAL_DEMANDS)),
                    "social_intensity": rng.choice(list(codes.SOCIAL_INTENSITIES)),
                    "languages": ("fi",),
                    "status": rng.choices(["open", "paused", "closed"], [90, 7, 3])[0],
                    "last_confirmed_at": confirmed,
                    "created_at": confirmed,
                    "updated_at": confirmed,
                    "version": 1,
                }
            )
            event_rows.append(
                {
                    "opening_id": opening_id,
                    "occurred_at": confirmed,
                    "kind": "capacity_changed",
                    "places_total_after": total,
                    "places_external_after": external,
                    "places_taken_after": 0,
                    "status_after": opening_rows[-1]["status"],
                }
            )
            opening_id += 1
        organisation_id = start_org + rng.randrange(org_count)
        site_rows.append(
            {
                "id": site_id,
                "uuid": str(uuid.uuid4()),
                "site_ref": f"BENCH-{site_id}",
                "organisation_id": organisation_id,
                "name": name,
                "street_address": f"{rng.choice(['Kauppakatu', 'Koulutie', 'Teollisuustie'])} {rng.randint(1, 99)}",
                "postal_code": code,
                "municipality_code": municipality,
                "latitude": lat,
                "longitude": lon,
                "geocode_precision": "manual",
                "accessibility": codes_cell(rng.sample(access_codes, rng.randint(0, 5))),
                "description": "",
                "contact_name": "",
                "contact_phone": "",
                "contact_email": "",
                "search_text": " ".join([name, *titles]).casefold(),
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        if len(site_rows) >= BATCH:
            flush()
    flush()
    return sites, opening_id - start_opening


def reset_sequences(session) -> None:
    """After bulk inserts with explicit ids: move PostgreSQL's id sequences past them, and
    refresh the planner's statistics (as autovacuum soon would) on either database."""
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import func, select

        from placements.models import Base

        for name in ("organisations", "sites", "openings", "capacity_events", "clients", "placements"):
            table = Base.metadata.tables[name]
            highest = select(func.coalesce(func.max(table.c.id), 1)).scalar_subquery()
            session.execute(select(func.setval(func.pg_get_serial_sequence(name, "id"), highest)))
    session.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--append", action="store_true", help="add to a database that already has sites")
    args = parser.parse_args()
    os.environ.setdefault("PLACEMENTS_ENV", "development")
    from flask_migrate import upgrade

    from placements import create_app
    from placements.extensions import db
    from placements.models import Site

    app = create_app()
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(Site)) and not args.append:
            sys.exit("The database already has sites; use --append to add more.")
        started = time.perf_counter()
        sites, openings = generate(db.session, args.sites, args.seed, datetime.now(UTC))
        reset_sequences(db.session)
        db.session.commit()
        print_machine()
        print(
            f"{sites} sites and {openings} openings in {time.perf_counter() - started:.1f} s "
            f"-> {app.config['SQLALCHEMY_DATABASE_URI']}"
        )


if __name__ == "__main__":
    main()
