"""No input produces a 500 (docs/rules.md §11), on SQLite and PostgreSQL alike.

Every route and method of the app's url_map is called with hostile path arguments and query
parameters (ids of 2^31 and 2^63, negative and non-numeric ids, NUL bytes, huge numbers,
impossible dates, redirect payloads) as each role; every form found on the app's pages is
posted with hostile values in its fields, with a valid CSRF token and as the role that sees
it. A fixed sweep first tries the worst value of each kind on every route and every field,
then Hypothesis explores combinations. Each case must answer below 500.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from werkzeug.datastructures import FileStorage, MultiDict

from placements import clock
from placements.models import Opening, Site, User
from placements.services import placements as placement_service
from tests.builders import PASSWORD, csv_bytes, site_row
from tests.conftest import csrf_token, log_in, run_jobs

ROLES = ("anonymous", "host", "social_worker", "coordinator")
MAX_EXAMPLES = 100  # per test and backend; the sweeps before them try every route and field
PLACEHOLDER = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
BIG_IDS = ("2147483648", "9223372036854775808")  # 2^31 (PostgreSQL integer) and 2^63 (SQLite)
HOSTILE_IDS = ("0", "-1", "007", "2147483647", *BIG_IDS, "18446744073709551616", "9" * 40, "1.5", "abc", "١٢", " 1")
HOSTILE = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "K-\x00",
    "\x01",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\t",
    "x\r\ny",
    "\u2028",
    "\ufeff",
    "\u202e",
    "sNaN",
    "-sNaN",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e999",
    "-1e999",
    "1e-999",
    "0",
    "-0",
    "-1",
    "1,5",
    "2147483647",
    *BIG_IDS,
    "18446744073709551616",
    "9" * 40,
    "9" * 5000,
    "0001-01-01",
    "0000-00-00",
    "1899-12-31",
    "2101-01-01",
    "9999-12-31",
    "10000-01-01",
    "31.12.9999",
    "2026-02-30",
    "/\t/evil.example",
    "//evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
    "%00",
    "K-2345-6789",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "a" * 300,
    "ä" * 5000,
    "𝕂",
)
# The query parameters the app reads; survey period parameters are covered by the survey's tests.
QUERY_KEYS = (
    "q",
    "near",
    "km",
    "page",
    "per_page",
    "why",
    "full",
    "format",
    "dialect",
    "free",
    "municipality",
    "type",
    "task",
    "access",
    "next",
    "split",
)
WORST_QUERY = {
    "q": "a\x00b",
    "near": "\x00",
    "km": "nan",
    "page": BIG_IDS[1],
    "per_page": BIG_IDS[0],
    "why": BIG_IDS[1],
    "municipality": "\x00",
    "type": "\x00",
    "next": "/\t/evil.example",
}
RAW_QUERY = "&q=\xff\xfe\x00&page=\x85"  # latin-1 decoded bytes, as a WSGI server passes them
# Worst value by kind of form field.
WORST_BY_KIND = {
    "text": ("a\x00b",),
    "search": ("a\x00b",),
    "email": ("a\x00@example.fi",),
    "password": ("a\x00b",),
    "textarea": ("a\x00b",),
    "hidden": ("\x00",),
    "number": ("sNaN",),
    "date": ("9999-12-31",),
    "select": ("\x00",),
    "checkbox": ("\x00",),
}
# Values that pass the forms' own checks, for the other fields of a form while one is hostile.
PLAUSIBLE = {
    "email": "uusi.kayttaja@example.fi",
    "user_email": "someone@example.fi",
    "contact_email": "yhteys@example.fi",
    "name": "Testinimi",
    "title": "Testitehtävä",
    "street_address": "Kauppakatu 3",
    "postal_code": "87100",
    "home_postal_code": "87100",
    "client_code": "K-2345-6789",
    "business_id": "1572860-0",
    "places_total": "5",
    "places_external": "0",
    "days_per_week": "3",
    "days_per_week_min": "2",
    "days_per_week_max": "4",
    "hours_per_day": "5",
    "hours_per_day_min": "4",
    "hours_per_day_max": "6",
    "max_travel_km": "30",
    "start_date": "2030-01-07",
    "planned_end": "2030-06-07",
    "ended_on": "2030-01-07",
    "current_password": PASSWORD,
    "new_password": "an entirely new passphrase 2030",
    "confirm": "an entirely new passphrase 2030",
}

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
hostile_id = st.one_of(st.sampled_from(HOSTILE_IDS), hostile_text)


# --- the world: one of everything, a logged-in client per role ---------------------------


@dataclass
class World:
    app: object
    clients: dict
    tokens: dict
    ids: dict
    protected: set  # user ids of the acting accounts (never deactivated or reset by the tests)
    site_id: int
    opening_id: int
    user_ids: list
    extra_pages: list


@pytest.fixture
def world(app, db, build):
    site = build.site()
    opening = site.openings[0]
    host = build.user("host", organisation=site.organisation)
    worker = build.user("social_worker")
    other_worker = build.user("social_worker")
    coordinator = build.user("coordinator")
    client = build.client(worker)
    build.needs(client, worker)
    placement = build.placement(client, opening, worker)
    second = build.client(worker)
    started = build.placement(second, opening, worker, start_date=clock.today())  # started: its end form shows
    placement_service.accept(db.session, started, host, now=clock.now())
    db.session.commit()
    build.client(other_worker)
    # The client whose pages are swept is still looking: it has no proposal at the opening,
    # so its proposal page shows the form (one open proposal per client and opening).
    searching = build.client(worker)
    build.needs(searching, worker)
    clients, tokens = {}, {}
    for role, user in (("anonymous", None), ("host", host), ("social_worker", worker), ("coordinator", coordinator)):
        test_client = app.test_client()
        if user is not None:
            assert log_in(test_client, user.email, PASSWORD).status_code == 302
        clients[role] = test_client
        tokens[role] = csrf_token(test_client, "/")
    ids = {
        "site_id": site.id,
        "opening_id": opening.id,
        "placement_id": placement.id,
        "user_id": other_worker.id,
        "organisation_id": site.organisation_id,
        "code": searching.code,
        "service_id": opening.uuid,
    }
    acting = {host.id, worker.id, coordinator.id}
    extra = [f"/placements/{started.id}"]
    return World(app, clients, tokens, ids, acting, site.id, opening.id, [*acting, other_worker.id], extra)


def restore(db, world: World) -> None:
    """Undo what a successful hostile-looking post may have done to the shared world."""
    db.session.rollback()
    db.session.execute(update(Site).where(Site.id == world.site_id).values(archived_at=None))
    db.session.execute(update(Opening).where(Opening.id == world.opening_id).values(archived_at=None))
    db.session.execute(update(User).where(User.id.in_(world.user_ids)).values(active=True, must_change_password=False))
    db.session.commit()


class ErrorLog(logging.Handler):
    """Keeps the last logged error, so a failing case shows its traceback."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record):
        exc = "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else ""
        self.last = f"{record.getMessage()}\n{exc}"


@pytest.fixture
def error_log():
    handler = ErrorLog()
    logger = logging.getLogger("placements")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def assert_no_500(response, what: str, error_log: ErrorLog) -> None:
    assert response.status_code < 500, f"{what} -> {response.status_code}\n{error_log.last[-3000:]}"


# --- routes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    method: str
    arguments: tuple[tuple[str, str], ...]  # (name, converter)

    def path(self, values: dict[str, str]) -> str:
        return PLACEHOLDER.sub(lambda m: quote(values[m.group("name")], safe=""), self.rule)


def routes(app) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        arguments = tuple((m.group("name"), m.group("converter") or "default") for m in PLACEHOLDER.finditer(rule.rule))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append(Route(rule.rule, rule.endpoint, method, arguments))
    return sorted(found, key=lambda r: (r.rule, r.method))


def call(world: World, role: str, route: Route, path_values: dict, query: dict, token: bool = True, raw: bool = False):
    """Call ``route``; ``raw`` sends the query string as raw bytes (not percent-encoded, not
    UTF-8), as a hand-made request can."""
    client = world.clients[role]
    path = route.path(path_values)
    options = {"environ_overrides": {"QUERY_STRING": urlencode(query) + RAW_QUERY}} if raw else {}
    if route.method == "GET":
        return client.get(path, query_string=None if raw else query, **options)
    data = dict(query)
    if token:
        data["csrf_token"] = world.tokens[role]
    return client.open(path, method=route.method, data=data, **options)


def callable_as(role: str, route: Route) -> bool:
    """Logging out would end the role's session for the rest of the test."""
    return not (route.endpoint == "auth.logout" and role != "anonymous")


def test_the_route_list_covers_every_blueprint(app):
    blueprints = {r.endpoint.split(".")[0] for r in routes(app)}
    assert blueprints >= {"main", "auth", "catalogue", "clients", "steps", "survey", "api", "admin"}


def test_no_route_answers_500_whatever_its_path_and_query(world, db, error_log):
    table = routes(world.app)
    # The sweep: every route and method, as every role, with the worst values.
    for route in table:
        for number, role in enumerate(ROLES):
            if not callable_as(role, route):
                continue
            big = BIG_IDS[number % 2]
            values = {name: big if converter in ("int", "id") else "K-\x00" for name, converter in route.arguments}
            response = call(world, role, route, values, WORST_QUERY, raw=True)
            assert_no_500(response, f"{role} {route.method} {route.path(values)!r}", error_log)

    # Then Hypothesis: any route, role, path values and query parameters.
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def check(data):
        route = data.draw(st.sampled_from(table), label="route")
        role = data.draw(st.sampled_from([r for r in ROLES if callable_as(r, route)]), label="role")
        real = world.ids
        values = {}
        for name, converter in route.arguments:
            strategy = hostile_id if converter in ("int", "id") else hostile_text
            if route.method == "GET" and name in real:
                strategy = st.one_of(st.just(str(real[name])), strategy)
            values[name] = data.draw(strategy, label=name)
        query = data.draw(st.dictionaries(st.sampled_from(QUERY_KEYS), hostile_text, max_size=4), label="query")
        token = data.draw(st.booleans(), label="csrf") if route.method != "GET" else True
        response = call(world, role, route, values, query, token)
        assert_no_500(response, f"{role} {route.method} {route.path(values)!r} {query!r}", error_log)
        restore(db, world)

    check()


# --- forms -------------------------------------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str
    values: list[str] = field(default_factory=list)  # the current value, or a select's options
    selected: list[str] = field(default_factory=list)


@dataclass
class PageForm:
    role: str
    method: str
    action: str
    fields: dict[str, FormField]

    @property
    def key(self) -> tuple:
        return (self.role, self.method, self.action, tuple(sorted(self.fields)))


class FormParser(HTMLParser):
    """The forms of a page with their fields, as a browser would submit them."""

    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[tuple[str, str, dict[str, FormField]]] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = ((a.get("method") or "get").upper(), a.get("action") or self.page_path, {})
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        fields = self._form[2]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            entry = fields.setdefault(name, FormField(name, kind))
            entry.values.append(a.get("value") or "")
            if kind in ("checkbox", "radio") and "checked" in a:
                entry.selected.append(a.get("value") or "on")
        elif tag == "button" and name:
            fields.setdefault(name, FormField(name, "submit")).values.append(a.get("value") or "")
        elif tag == "select" and name:
            self._select = fields.setdefault(name, FormField(name, "select"))
        elif tag == "option" and self._select is not None:
            self._select.values.append(a.get("value") or "")
            if "selected" in a:
                self._select.selected.append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = fields.setdefault(name, FormField(name, "textarea"))
            self._textarea.values.append("")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.values[-1] += data


def _excluded(form: PageForm, world: World) -> bool:
    if form.action.startswith("/logout"):
        return True
    match = re.match(r"/admin/users/(\d+)/", form.action)
    return bool(match) and int(match.group(1)) in world.protected


def discover_forms(world: World) -> list[PageForm]:
    """Every form on every page each role can open (paths filled with real ids), plus the
    import preview's confirmation form."""
    found: dict[tuple, PageForm] = {}
    pages = []
    for route in routes(world.app):
        if route.method != "GET":
            continue
        values = {name: str(world.ids.get(name, "x")) for name, _ in route.arguments}
        pages.append(route.path(values))
    pages += world.extra_pages
    for role in ROLES:
        client = world.clients[role]
        responses = [(path, client.get(path)) for path in pages]
        if role == "coordinator":
            csv_file = _as_stream(_csv_file(site_row(site_ref="NEW-1")))
            upload = {"csrf_token": world.tokens[role], "file": (csv_file, "s.csv")}
            queued = client.post("/admin/import", data=upload)
            run_jobs()  # the check runs as a job; its page carries the confirmation form
            responses.append(("/admin/import", client.get(queued.headers["Location"])))
        for path, response in responses:
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            parser = FormParser(path)
            parser.feed(response.get_data(as_text=True))
            for method, action, fields in parser.forms:
                form = PageForm(role, method, action, fields)
                if not _excluded(form, world):
                    found.setdefault(form.key, form)
    return list(found.values())


def _csv_file(*rows) -> bytes:
    return csv_bytes(list(rows))


def plausible(form_field: FormField) -> str | list[str] | None:
    if form_field.kind in ("checkbox", "radio"):
        return form_field.selected or None
    if form_field.kind == "select":
        options = [v for v in form_field.values if v]
        return (form_field.selected or options or [""])[0]
    current = form_field.values[0] if form_field.values else ""
    return current or PLAUSIBLE.get(form_field.name.split("-")[-1], current)


def submit(world: World, form: PageForm, data: MultiDict):
    client = world.clients[form.role]
    if form.method == "GET":
        return client.get(form.action, query_string=data)
    return client.post(form.action, data=data)


def base_data(world: World, form: PageForm, skip: str | None = None) -> MultiDict:
    data = MultiDict()
    for name, form_field in form.fields.items():
        if name == skip:
            continue
        if name == "csrf_token":
            data.add(name, world.tokens[form.role])
        elif form_field.kind == "file":
            data.add(name, FileStorage(_as_stream(_csv_file(site_row(site_ref="NEW-2"))), "s.csv"))
        else:
            value = plausible(form_field)
            for item in value if isinstance(value, list) else [value] if value is not None else []:
                data.add(name, item)
    return data


def _as_stream(content: bytes):
    import io

    return io.BytesIO(content)


# A name that climbs folders, put together so no path appears here as text.
CLIMBING_NAME = "/".join(["." * 2] * 2 + ["etc", "passwd"])
HOSTILE_FILENAMES = ("s\x00.csv", "\x1b[2J.csv", "ä" * 300 + ".csv", CLIMBING_NAME, "")


def _upload(content: bytes, filename: str) -> FileStorage:
    return FileStorage(_as_stream(content), filename)


# A site CSV with a hostile cell in the columns that reach the database as text, impossible
# dates and numbers, and a few broken files.
HOSTILE_FILES = (
    *(
        csv_bytes([site_row(**{"site_ref": "HOSTILE", column: "a\x00b"})])
        for column in ("site_ref", "organisation", "site_name", "opening_title", "description", "task_areas")
    ),
    *(csv_bytes([site_row(site_ref="HOSTILE", last_confirmed=day)]) for day in ("01.01.0001", "9999-12-31")),
    csv_bytes([site_row(site_ref="HOSTILE", latitude="sNaN", longitude="inf")]),
    b"\x00\x00\x00",
    b"site_ref\x00\n",
    b"\xff\xfe",
)


EXPECTED_FORMS = (
    "/login",
    "/language",
    "/account/password",
    "/admin/users",
    "/admin/users/N/transfer-clients",
    "/admin/audit",
    "/admin/organisations",
    "/admin/organisations/N/edit",
    "/admin/import",
    "/admin/import/confirm",
    "/sites/new",
    "/sites/N/edit",
    "/sites/N/archive",
    "/sites/N/openings/new",
    "/openings/N/capacity",
    "/openings/N/edit",
    "/openings/N/confirm",
    "/openings/N/archive",
    "/clients/new",
    "/clients/K-N/edit",
    "/clients/K-N/needs",
    "/clients/K-N/propose/N",
    "/placements/N/decline",
    "/placements/N/end",
    "/placements/N/cancel",
)


def _pattern(action: str) -> str:
    return re.sub(r"\d+", "N", re.sub(r"K-\w{4}-\w{4}", "K-N", action))


def test_no_form_input_answers_500(world, db, error_log):
    forms = discover_forms(world)
    found = {_pattern(f.action) for f in forms if f.method == "POST"}
    assert set(EXPECTED_FORMS) <= found, set(EXPECTED_FORMS) - found

    # The sweep: each field of each form (once, as the first role that sees it) with the
    # worst value of its kind, the other fields as the page filled them.
    swept = set()
    for form in forms:
        shape = (form.method, _pattern(form.action), tuple(sorted(form.fields)))
        if shape in swept:
            continue
        swept.add(shape)
        for name, form_field in form.fields.items():
            if name == "csrf_token":
                continue
            if form_field.kind == "file":
                good = _csv_file(site_row(site_ref="NEW-2"))
                values = [(content, "s.csv") for content in HOSTILE_FILES] + [(good, n) for n in HOSTILE_FILENAMES]
            else:
                values = WORST_BY_KIND.get(form_field.kind, ())
            for value in values:
                data = base_data(world, form, skip=name)
                data.add(name, _upload(*value) if form_field.kind == "file" else value)
                response = submit(world, form, data)
                shown = value[0][:80] if form_field.kind == "file" else value[:80]
                assert_no_500(response, f"{form.role} {form.method} {form.action} {name}={shown!r}", error_log)
        restore(db, world)

    # Then Hypothesis: any form, each field kept, hostile or left out.
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def check(data):
        form = data.draw(st.sampled_from(forms), label="form")
        posted = MultiDict()
        for name, form_field in form.fields.items():
            mode = data.draw(st.sampled_from(("keep", "keep", "hostile", "omit")), label=name)
            if name == "csrf_token" and mode == "hostile":
                mode = "keep"
            if mode == "omit":
                continue
            if form_field.kind == "file":
                content, filename = _csv_file(site_row(site_ref="NEW-3")), "s.csv"
                if mode == "hostile":
                    content = data.draw(st.sampled_from(HOSTILE_FILES), label=name)
                    filename = data.draw(st.one_of(st.sampled_from(HOSTILE_FILENAMES), hostile_text), label="filename")
                posted.add(name, _upload(content, filename))
            elif mode == "hostile":
                posted.add(name, data.draw(hostile_text, label=name))
            else:
                posted.update(base_data(world, PageForm(form.role, form.method, form.action, {name: form_field})))
        response = submit(world, form, posted)
        shown = {k: (v[:60] if isinstance(v, str) else v) for k, v in posted.items(multi=True)}
        assert_no_500(response, f"{form.role} {form.method} {form.action} {shown!r}", error_log)
        restore(db, world)

    check()
