"""Writing and reading the audit trail (docs/rules.md §12).

Every event carries who (user, role), from where (the address of the request, or the
command line), when and what, however deep in a service it is written: the web layer
sets the origin once per request (``origin``), commands and jobs set theirs.
Values are single-line so they cannot forge log lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qsl

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from placements import clock, codes, formats, permissions
from placements.models import AuditEvent, Opening, Organisation, Placement, Site, User
from placements.services import reference

# Where the current unit of work comes from: a request's client address, "cli" or "job".
_origin: ContextVar[str | None] = ContextVar("audit_origin", default=None)


@contextmanager
def origin(address: str | None) -> Iterator[None]:
    """Record ``address`` as the origin of every event written inside the block."""
    token = _origin.set(address)
    try:
        yield
    finally:
        _origin.reset(token)


def set_origin(address: str | None):
    """Set the origin until ``reset_origin(token)``; for request hooks."""
    return _origin.set(address)


def reset_origin(token) -> None:
    _origin.reset(token)


def codes_cell(codes: Iterable[str] | None) -> str | None:
    """``["K-1", "K-2"]`` -> ``"|K-1|K-2|"`` (each code once, in order), so a search can match
    ``"|K-1|"``; None for no codes."""
    unique = [_one_line(code, 11) for code in dict.fromkeys(codes or ())]
    return "|" + "|".join(unique) + "|" if unique else None


def _one_line(value: object | None, limit: int) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:limit]


def record(
    session: Session,
    action: str,
    *,
    user=None,
    object_type: str | None = None,
    object_id: object | None = None,
    client_code: str | None = None,
    purpose: str | None = None,
    detail: str | None = None,
    client_codes: Iterable[str] | None = None,
) -> AuditEvent:
    """Add one audit event to the session; it commits with the unit of work around it.

    ``client_codes``: every client code a listing showed, kept whole in one event (a search
    by client code finds it, docs/rules.md §12.3)."""
    event = AuditEvent(
        occurred_at=clock.now(),
        user_id=getattr(user, "id", None),
        user_email=_one_line(getattr(user, "email", None), 254),
        role=getattr(user, "role", None),
        action=_one_line(action, 60),
        object_type=_one_line(object_type, 40),
        object_id=_one_line(object_id, 64),
        client_code=_one_line(client_code, 11),
        purpose=_one_line(purpose, 200),
        ip_address=_one_line(_origin.get(), 45),
        detail=_one_line(detail, 500),
        client_codes=codes_cell(client_codes),
    )
    session.add(event)
    return event


AUDIT_CSV_COLUMNS = (
    "occurred_at",
    "user_email",
    "role",
    "action",
    "object_type",
    "object_id",
    "client_code",
    "purpose",
    "ip_address",
    "detail",
    "client_codes",
)


def search_query(user, *, user_email=None, client_code=None, action=None, since=None, until=None):
    """Audit events matching the filters, newest first. ``until`` is inclusive (a date)."""
    permissions.require(permissions.can_view_audit(user), object_type="audit")
    query = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if user_email:
        query = query.where(AuditEvent.user_email == user_email.strip().lower())
    if client_code:
        code = client_code.strip().upper()
        listed = AuditEvent.client_codes.contains(f"|{code}|", autoescape=True)
        query = query.where(or_(AuditEvent.client_code == code, listed))
    if action:
        query = query.where(AuditEvent.action == action)
    if since:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(since, time(), tzinfo=UTC))
    if until and until < date.max:
        query = query.where(AuditEvent.occurred_at < datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC))
    return query


def csv_row(event: AuditEvent) -> dict[str, object]:
    row = {name: getattr(event, name) for name in AUDIT_CSV_COLUMNS}
    row["occurred_at"] = event.occurred_at.isoformat(timespec="seconds")
    row["client_codes"] = " ".join(code for code in (event.client_codes or "").split("|") if code)
    return row


# --- reading the trail on the page (docs/rules.md §12.5) ----------------------------------------

# Why client data was read or changed (AuditEvent.purpose), as the page names it.
PURPOSES = {
    "client work": _l("client work"),
    "recording needs": _l("recording the client's needs"),
    "matching": _l("looking for a suitable place"),
    "placement": _l("placement"),
    "ownership transfer": _l("moving clients to another social worker"),
    "retention": _l("removing closed clients' data"),
}

# The fields named by "changed: …" and "field: old -> new" details.
FIELD_LABELS = {
    "organisation": _l("Organisation"),
    "location": _l("Location"),
    "name": _l("Name"),
    "street_address": _l("Street address"),
    "postal_code": _l("Postal code"),
    "municipality_code": _l("Municipality"),
    "accessibility": _l("Accessibility"),
    "description": _l("Description"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Phone"),
    "contact_email": _l("E-mail"),
    "type": _l("Type"),
    "title": _l("Title"),
    "task_areas": _l("Task areas"),
    "days_per_week_min": _l("Days a week, at least"),
    "days_per_week_max": _l("Days a week, at most"),
    "hours_per_day_min": _l("Hours a day, at least"),
    "hours_per_day_max": _l("Hours a day, at most"),
    "supports": _l("Support available"),
    "physical_demand": _l("Physical demand"),
    "social_intensity": _l("Social interaction"),
    "languages": _l("Working languages"),
    "places_total": _l("Places in total"),
    "places_external": _l("Of which taken by participants referred from elsewhere"),
    "status": _l("Status"),
    "accepting_from": _l("Accepting new participants from"),
}


@dataclass(frozen=True)
class Reading:
    """One event as the page shows it: the object by name, the purpose and the details in words."""

    event: AuditEvent
    object_name: str
    purpose: str
    detail: str


def readable(session: Session, events: Sequence[AuditEvent]) -> list[Reading]:
    """The events with their objects named (a few queries for the whole page) and their
    purposes and details in the reader's language; a detail not understood is shown as stored."""
    names = _object_names(session, events)
    return [
        Reading(
            event=event,
            object_name=_object_name(event, names),
            purpose=str(PURPOSES.get(event.purpose, event.purpose)) if event.purpose else "",
            detail=_detail(session, event, names),
        )
        for event in events
    ]


def _int_id(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 19 else None


def _detail_user_ids(event: AuditEvent) -> list[int]:
    if event.action != "client_transferred" or not event.detail:
        return []
    pairs = _pairs(event.detail)
    return [i for i in (_int_id(pairs.get("from_user")), _int_id(pairs.get("to_user"))) if i is not None]


def _object_names(session: Session, events: Sequence[AuditEvent]) -> dict[tuple[str, int], str]:
    wanted: dict[str, set[int]] = {}
    for event in events:
        id_ = _int_id(event.object_id)
        if event.object_type and id_ is not None:
            wanted.setdefault(event.object_type, set()).add(id_)
        wanted.setdefault("user", set()).update(_detail_user_ids(event))
    names: dict[tuple[str, int], str] = {}
    if wanted.get("user"):
        for id_, name, email in session.execute(
            select(User.id, User.name, User.email).where(User.id.in_(wanted["user"]))
        ):
            names["user", id_] = f"{name} ({email})"
    if wanted.get("organisation"):
        query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted["organisation"]))
        names.update({("organisation", id_): name for id_, name in session.execute(query)})
    if wanted.get("site"):
        query = select(Site.id, Site.name, Site.municipality_code).where(Site.id.in_(wanted["site"]))
        names.update({("site", id_): _site_name(session, name, code) for id_, name, code in session.execute(query)})
    if wanted.get("opening"):
        query = (
            select(Opening.id, Opening.type, Opening.title, Site.name, Site.municipality_code)
            .join(Site, Opening.site_id == Site.id)
            .where(Opening.id.in_(wanted["opening"]))
        )
        for id_, type_, title, site, code in session.execute(query):
            names["opening", id_] = f"{_opening_name(type_, title)} – {_site_name(session, site, code)}"
    if wanted.get("placement"):
        query = (
            select(Placement.id, Opening.type, Opening.title, Site.name, Site.municipality_code)
            .join(Opening, Placement.opening_id == Opening.id)
            .join(Site, Opening.site_id == Site.id)
            .where(Placement.id.in_(wanted["placement"]))
        )
        for id_, type_, title, site, code in session.execute(query):
            names["placement", id_] = f"{_opening_name(type_, title)} – {_site_name(session, site, code)}"
    return names


def _site_name(session: Session, name: str, municipality_code: str | None) -> str:
    """The site's name, with its municipality unless the name already ends with it."""
    municipality = reference.municipality_name(session, municipality_code)
    if not municipality or name.casefold().endswith(municipality.casefold()):
        return name
    return f"{name}, {municipality}"


def _opening_name(type_: str, title: str) -> str:
    label = str(codes.OPENING_TYPES.get(type_, type_))
    return f"{label[:1].upper()}{label[1:]}: {title}"


def _object_name(event: AuditEvent, names: dict[tuple[str, int], str]) -> str:
    if not event.object_type:
        return ""
    if event.object_type == "client" and event.client_code:
        return event.client_code
    id_ = _int_id(event.object_id)
    if id_ is not None and (event.object_type, id_) in names:
        return names[event.object_type, id_]
    kind = str(codes.AUDIT_OBJECTS.get(event.object_type, event.object_type))
    return f"{kind} {event.object_id}" if event.object_id else kind


def _pairs(text: str, separator: str | None = None) -> dict[str, str]:
    """``a=1 b=2`` (or ``a=1, b=2`` with ``separator=","``) as a dict."""
    parts = text.split(separator) if separator else text.split()
    pairs = {}
    for part in parts:
        key, sign, value = part.strip().partition("=")
        if sign:
            pairs[key] = value
    return pairs


def _value(field: str, value: str) -> str:
    """A stored value (as written by ``str()``) in words where it is a code or a day."""
    value = value.strip()
    if value in ("", "None"):
        return "–"
    if field == "status":
        return str(codes.OPENING_STATUSES.get(value, value))
    if field == "accepting_from":
        try:
            return formats.day(date.fromisoformat(value))
        except ValueError:
            return value
    return value


def _field(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def _day(value: str | None) -> str:
    try:
        return formats.day(date.fromisoformat(value or ""))
    except ValueError:
        return value or ""


def _survey(detail: str) -> str:
    pairs = _pairs(detail)
    start, _sep, end = pairs["period"].partition("_")
    parts = [_("Period %(period)s", period=formats.day_range(date.fromisoformat(start), date.fromisoformat(end)))]
    parts.append(_("by site") if pairs.get("level") == "site" else _("by municipality"))
    split = pairs.get("split")
    if split == "age_band":
        parts.append(_("split by age band"))
    elif split == "gender":
        parts.append(_("split by gender"))
    if pairs.get("suppress") == "1":
        parts.append(_("small numbers hidden"))
    return ", ".join(parts)


def _audit_filters(detail: str) -> str:
    if detail.strip() == "all":
        return _("all events")
    pairs = _pairs(detail, ",")
    parts = []
    if pairs.get("user_email"):
        parts.append(_("user %(email)s", email=pairs["user_email"]))
    if pairs.get("action"):
        parts.append(_("event: %(event)s", event=codes.AUDIT_ACTIONS.get(pairs["action"], pairs["action"])))
    if pairs.get("since"):
        parts.append(_("from %(day)s", day=_day(pairs["since"])))
    if pairs.get("until"):
        parts.append(_("to %(day)s", day=_day(pairs["until"])))
    return _("Filters: %(filters)s", filters=", ".join(parts)) if parts else _("all events")


def _changes(detail: str) -> str:
    """``places_total: 5 -> 9, status: open -> paused``"""
    parts = []
    for part in detail.split(", "):
        name, _sep, change = part.partition(": ")
        old, arrow, new = change.partition(" -> ")
        if not arrow:
            raise ValueError(detail)
        parts.append(f"{_field(name)} {_value(name, old)} → {_value(name, new)}")
    return "; ".join(parts)


def _changed_fields(detail: str) -> str:
    """``changed: name, description`` or ``changed: nothing``"""
    names = detail.removeprefix("changed:").strip()
    if names == "nothing":
        return _("nothing changed")
    return _("Changed: %(fields)s", fields=", ".join(_field(n.strip()) for n in names.split(",")))


def _import_counts(detail: str) -> str:
    pairs = {key: int(value) for key, value in _pairs(detail).items()}
    return _(
        "%(rows)s rows; sites: %(sites_new)s new, %(sites_changed)s changed; "
        "openings: %(new)s new, %(changed)s changed, %(archived)s archived",
        rows=pairs["rows"],
        sites_new=pairs["sites_created"],
        sites_changed=pairs["sites_updated"],
        new=pairs["openings_created"],
        changed=pairs["openings_updated"],
        archived=pairs["openings_archived"],
    )


def _transfer(detail: str, names: dict[tuple[str, int], str]) -> str:
    pairs = _pairs(detail)

    def person(key: str) -> str:
        id_ = _int_id(pairs.get(key))
        return names.get(("user", id_), pairs.get(key, "?")) if id_ is not None else pairs.get(key, "?")

    return _("from %(source)s to %(target)s", source=person("from_user"), target=person("to_user"))


def _detail(session: Session, event: AuditEvent, names: dict[tuple[str, int], str]) -> str:
    detail = event.detail or ""
    if not detail:
        return ""
    action = event.action
    try:
        if action == "survey_exported":
            return _survey(detail)
        if action == "audit_exported":
            return _audit_filters(detail)
        if action == "opening_capacity_changed":
            return _changes(detail)
        if action in ("opening_updated", "site_updated") and detail.startswith("changed:"):
            return _changed_fields(detail)
        if action == "sites_import":
            return _import_counts(detail)
        if action == "client_transferred":
            return _transfer(detail, names)
        pairs = _pairs(detail)
        if action == "login_failed" and "email" in pairs:
            return _("E-mail address given: %(email)s", email=pairs["email"])
        if action == "user_created" and "role" in pairs:
            return _("Role: %(role)s", role=codes.ROLES.get(pairs["role"], pairs["role"]))
        if action == "password_set" and "link" in pairs:
            return _("with a new account's link") if pairs["link"] == "invite" else _("with a password reset link")
        if action == "placement_ended" and "reason" in pairs:
            return _("Reason: %(reason)s", reason=codes.END_REASONS.get(pairs["reason"], pairs["reason"]))
        if action == "clients_purged" and "count" in pairs:
            return _(
                "%(count)s clients closed before %(day)s", count=pairs["count"], day=_day(pairs.get("closed_before"))
            )
        if action == "sites_exported" and detail.startswith("filters="):
            query = parse_qsl(detail.removeprefix("filters="))
            if not query:
                return _("all sites")
            return _("Filters: %(filters)s", filters=", ".join(f"{key}={value}" for key, value in query))
    except (KeyError, ValueError):
        pass
    return detail.replace(" -> ", " → ")
