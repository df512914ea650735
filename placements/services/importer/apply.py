"""Carrying out an import plan: organisations, sites and openings created, updated or
archived, each capacity change recorded (docs/rules.md §10.6), in a few bulk statements.

Updates name the version each row had when the plan was made: a row that someone changed
in the meantime makes the statement fail (``StaleDataError``) and the unit of work roll
back, as the ORM's optimistic lock does for a single edit. Only flushes; never commits.
"""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from placements.models import CapacityEvent, Opening, Organisation, Site
from placements.models.site import new_uuid
from placements.services.importer.plan import OPENING_FIELDS, SITE_FIELDS, Plan

__all__ = ["OPENING_FIELDS", "SITE_FIELDS", "write"]


def write(session: Session, plan: Plan, user) -> None:
    """Write everything ``plan`` decided, as ``user``."""
    session.flush()  # anything pending (the geocoder's cache) goes first
    organisation_ids = dict(plan.organisation_ids)
    if plan.new_organisations:
        rows = session.execute(
            insert(Organisation).returning(Organisation.id, Organisation.name),
            [{"name": name, "kind": kind} for name, kind in plan.new_organisations.items()],
        )
        organisation_ids.update({name: id_ for id_, name in rows})
    if plan.organisation_kinds:
        session.execute(update(Organisation), plan.organisation_kinds)

    site_ids: dict[str, int] = {}
    if plan.new_sites:
        created = _new_row_values(plan.now)
        _insert_many(
            session,
            Site,
            [created | {"uuid": new_uuid()} | _with_organisation(site, organisation_ids) for site in plan.new_sites],
        )
        refs = [site["site_ref"] for site in plan.new_sites]
        for start in range(0, len(refs), _CHUNK):
            query = select(_SITES.id, _SITES.site_ref).where(_SITES.site_ref.in_(refs[start : start + _CHUNK]))
            site_ids.update({ref: id_ for id_, ref in session.execute(query)})
    if plan.site_updates:
        session.execute(update(Site), [_with_organisation(site, organisation_ids) for site in plan.site_updates])
    if plan.search_updates:
        # A plain UPDATE: an opening's new title must not make an open site form stale.
        table = Site.__table__
        statement = update(table).where(table.c.id == bindparam("site_id")).values(search_text=bindparam("text"))
        session.connection().execute(
            statement, [{"site_id": row["id"], "text": row["search_text"]} for row in plan.search_updates]
        )

    events: list[dict] = []
    if plan.new_openings:
        created = _new_row_values(plan.now) | {"accepting_from": None, "archived_at": None}
        values = [
            created | fields | {"uuid": new_uuid(), "site_id": site_id if site_id is not None else site_ids[ref]}
            for ref, site_id, fields in plan.new_openings
        ]
        _insert_many(session, Opening, values)
        ids: dict[tuple[int, str, str], int] = {}  # the new openings' ids, by their unique key
        sites_with_new = sorted({row["site_id"] for row in values})
        for start in range(0, len(sites_with_new), _CHUNK):
            query = select(_OPENINGS.id, _OPENINGS.site_id, _OPENINGS.type, _OPENINGS.title).where(
                _OPENINGS.site_id.in_(sites_with_new[start : start + _CHUNK])
            )
            ids.update({(site_id, type_, title): id_ for id_, site_id, type_, title in session.execute(query)})
        for fields in values:
            opening_id = ids[(fields["site_id"], fields["type"], fields["title"])]
            events.append(_event(plan, opening_id, None, fields, user))
    if plan.opening_updates:
        session.execute(update(Opening), [mapping for mapping, _before, _always in plan.opening_updates])
        for mapping, before, always in plan.opening_updates:
            after = {
                "places_total": mapping.get("places_total", before[0]),
                "places_external": mapping.get("places_external", before[1]),
                "places_taken": before[2],
                "status": mapping.get("status", before[3]),
            }
            if always or (after["places_total"], after["places_external"], before[2], after["status"]) != before:
                events.append(_event(plan, mapping["id"], before, after, user))
    if events:
        _insert_many(session, CapacityEvent, events)
    # The statements above bypass the objects in the session: forget what they hold.
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Site | Opening | Organisation):
            session.expire(instance)


_SITES, _OPENINGS = Site.__table__.c, Opening.__table__.c
_CHUNK = 500


def _insert_many(session: Session, model, rows: list[dict]) -> None:
    """Insert plain rows (no ORM objects), every row with the same keys and every value given,
    so that no column default is computed row by row. PostgreSQL takes them by COPY, which
    is many times faster than one INSERT per row; SQLite by one executemany."""
    connection = session.connection()
    table = model.__table__
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    from psycopg import sql

    names = list(rows[0])
    processors = [table.c[name].type.bind_processor(connection.dialect) for name in names]
    command = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(name) for name in names)
    )
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(command) as copy:
        for row in rows:
            copy.write_row(
                [
                    row[name] if process is None else process(row[name])
                    for name, process in zip(names, processors, strict=True)
                ]
            )


def _new_row_values(now) -> dict:
    """What a new site or opening would get from its column defaults (the uuid, unique,
    is added per row)."""
    return {"created_at": now, "updated_at": now, "version": 1}


def _with_organisation(site: dict, organisation_ids: dict[str, int]) -> dict:
    values = {key: value for key, value in site.items() if key != "organisation"}
    values["organisation_id"] = organisation_ids[site["organisation"]]
    return values


def _event(plan: Plan, opening_id: int, before, after: dict, user) -> dict:
    return {
        "opening_id": opening_id,
        "occurred_at": plan.now,
        "user_id": getattr(user, "id", None),
        "kind": "capacity_changed",
        "placement_id": None,
        "places_total_before": before[0] if before else None,
        "places_total_after": after["places_total"],
        "places_external_before": before[1] if before else None,
        "places_external_after": after["places_external"],
        "places_taken_before": before[2] if before else None,
        "places_taken_after": after["places_taken"],
        "status_before": before[3] if before else None,
        "status_after": after["status"],
    }
