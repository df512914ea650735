"""The site CSV importer (docs/rules.md §10): every bad input is named and changes nothing."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from placements.models import CapacityEvent, Opening, Organisation, Site
from placements.permissions import SYSTEM
from placements.services import site_csv
from placements.services.importer import import_sites
from placements.services.importer.result import ImportResult, SiteChange
from placements.services.site_export import export_rows
from tests.builders import csv_bytes, site_row

MUNICIPALITY_CENTRE_KAJAANI = (64.2222, 27.7278)


def counts(db) -> tuple[int, int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Organisation, Site, Opening, CapacityEvent)
    )


def import_and_commit(db, data: bytes, **kwargs):
    result = import_sites(db.session, data, SYSTEM, **kwargs)
    if result.ok and not kwargs.get("dry_run"):
        db.session.commit()
    else:
        db.session.rollback()
    return result


def test_sample_data_imports_with_the_promised_coverage(db, seed_csv):
    result = import_and_commit(db, seed_csv)

    assert result.ok, result.problems
    sites = db.session.scalars(select(Site)).all()
    openings = db.session.scalars(select(Opening)).all()
    assert len(sites) >= 80 and len(openings) >= 150
    by_municipality = Counter(site.municipality_code for site in sites)
    assert set(by_municipality) == {"205", "765", "290", "777", "578", "620", "105", "697"}
    assert by_municipality.most_common(1)[0][0] == "205"  # Kajaani has the most
    assert {o.type for o in openings} == {"rehabilitative_work", "work_trial", "pay_subsidy", "ips_job"}
    from placements.codes import TASK_AREAS

    assert {t for o in openings for t in o.task_areas} == set(TASK_AREAS)
    assert any(o.free_places == 0 for o in openings), "some openings are full"
    now = datetime.now(UTC)
    assert any(o.is_stale(now, 60) for o in openings), "some openings are stale"
    assert any(s.geocode_precision == "municipality" for s in sites), "some rows had no coordinates"
    assert all(s.contact_email.endswith("@example.fi") for s in sites)


def test_reimporting_the_same_file_updates_instead_of_duplicating(db, seed_csv):
    import_and_commit(db, seed_csv)
    before = counts(db)

    result = import_and_commit(db, seed_csv)

    assert result.ok
    assert counts(db) == before
    assert result.sites_created == 0 and result.openings_created == 0
    assert result.sites_unchanged == before[1]


def test_reimport_changes_only_what_the_file_changes(db, build):
    build.site()
    result = import_and_commit(db, csv_bytes([site_row(site_name="Uusi nimi", places_total="8")]))

    assert result.sites_updated == 1 and result.openings_updated == 1
    site = db.session.scalar(select(Site))
    assert site.name == "Uusi nimi"
    assert site.openings[0].places_total == 8
    assert site.openings[0].version == 2
    events = db.session.scalars(select(CapacityEvent).order_by(CapacityEvent.id)).all()
    assert [(e.places_total_before, e.places_total_after) for e in events] == [(None, 5), (5, 8)]


def test_an_opening_missing_from_a_reimported_site_is_archived_not_deleted(db, build):
    build.sites(site_row(), site_row(opening_type="work_trial", opening_title="Kokeilu", days_per_week_max="5"))
    result = import_and_commit(db, csv_bytes([site_row()]))

    assert result.openings_archived == 1
    archived = db.session.scalar(select(Opening).where(Opening.title == "Kokeilu"))
    assert archived.archived_at is not None and archived.status == "closed"


def test_export_then_import_reproduces_the_same_data(db, seed_csv):
    import_and_commit(db, seed_csv)
    first = io.StringIO()
    site_csv.write(export_rows(db.session), first)
    snapshot = [row for row in export_rows(db.session)]

    result = import_and_commit(db, first.getvalue().encode("utf-8"))

    assert result.ok and result.sites_updated == 0 and result.openings_updated == 0
    assert list(export_rows(db.session)) == snapshot


def test_export_in_finnish_excel_dialect_reimports(db, build):
    build.site(hours_per_day_max="6.5", description='=HYPERLINK("x")')
    buffer = io.StringIO()
    site_csv.write(export_rows(db.session), buffer, excel_fi=True)
    text = buffer.getvalue()
    assert text.startswith("\ufeffsite_ref;")
    assert ";6,5;" in text
    assert "'=HYPERLINK" in text  # neutralised for spreadsheets

    result = import_and_commit(db, text.encode("utf-8"))

    assert result.ok, result.problems
    site = db.session.scalar(select(Site))
    assert site.description == '=HYPERLINK("x")'
    assert site.openings[0].hours_per_day_max == 6.5


def test_semicolon_delimiter_and_bom_are_accepted(db):
    result = import_and_commit(db, csv_bytes([site_row(hours_per_day_max="5,5")], delimiter=";", bom=True))

    assert result.ok, result.problems
    assert db.session.scalar(select(Opening)).hours_per_day_max == 5.5


def test_empty_coordinates_fall_back_to_the_municipality_centre(db):
    import_and_commit(db, csv_bytes([site_row(latitude="", longitude="")]))

    site = db.session.scalar(select(Site))
    assert (site.latitude, site.longitude) == MUNICIPALITY_CENTRE_KAJAANI
    assert site.geocode_precision == "municipality"


def test_empty_coordinates_use_the_postal_code_centre_when_known(db):
    from placements.models import PostalCode

    db.session.get(PostalCode, "87100").centre_lat = 64.2260
    db.session.get(PostalCode, "87100").centre_lon = 27.7310
    db.session.commit()
    import_and_commit(db, csv_bytes([site_row(latitude="", longitude="")]))

    site = db.session.scalar(select(Site))
    assert (site.latitude, site.longitude, site.geocode_precision) == (64.2260, 27.7310, "postal_code")


def test_given_coordinates_are_recorded_as_set_by_hand(db):
    import_and_commit(db, csv_bytes([site_row()]))
    assert db.session.scalar(select(Site)).geocode_precision == "manual"


def test_last_confirmed_column_sets_the_confirmation_date(db):
    old = (datetime.now(UTC) - timedelta(days=90)).date()
    import_and_commit(db, csv_bytes([site_row(last_confirmed=old.strftime("%d.%m.%Y"))]))

    opening = db.session.scalar(select(Opening))
    assert opening.last_confirmed_at.date() == old
    assert opening.is_stale(datetime.now(UTC), 60)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("2026-03-04", "2026-03-04"),
        ("4.3.2026", "2026-03-04"),
        ("04.03.2026", "2026-03-04"),
        ("2026-3-4", "2026-03-04"),
    ],
)
def test_last_confirmed_accepts_both_date_forms(db, given, expected):
    result = import_and_commit(db, csv_bytes([site_row(last_confirmed=given)]))
    assert result.ok, result.problems
    assert db.session.scalar(select(Opening)).last_confirmed_at.date().isoformat() == expected


@pytest.mark.parametrize(
    "given", ["31.02.2026", "2026-13-01", "27/11/2026", "2026-11-27T10:00", "٢٠٢٦-١١-٢٧", "20261127"]
)
def test_last_confirmed_refuses_what_is_not_a_date(db, given):
    result = import_and_commit(db, csv_bytes([site_row(last_confirmed=given)]))
    assert [(p.row, p.column) for p in result.problems] == [(2, "last_confirmed")]
    assert "ei ole päivämäärä" in result.problems[0].message


def test_dry_run_reports_but_saves_nothing(db, seed_csv):
    result = import_and_commit(db, seed_csv, dry_run=True)

    assert result.ok and result.sites_created >= 80
    assert counts(db) == (0, 0, 0, 0)


# Each bad input: (overrides for one row, column named in the problem, words in the message)
BAD_ROWS = [
    ({"site_ref": ""}, "site_ref", "pakollinen"),
    ({"site_ref": "has space"}, "site_ref", "kirjainta"),
    ({"organisation": ""}, "organisation", "pakollinen"),
    ({"organisation_kind": "club"}, "organisation_kind", "Tuntematon koodi ”club”"),
    ({"site_name": ""}, "site_name", "pakollinen"),
    ({"site_name": "x" * 201}, "site_name", "Enintään 200 merkkiä"),
    ({"postal_code": "8710"}, "postal_code", "viisi numeroa"),
    ({"postal_code": "00100"}, "postal_code", "ei ole kainuulainen"),
    ({"postal_code": "87101"}, "postal_code", "postilokeron"),
    ({"postal_code": "88600"}, "postal_code", "kuuluu kuntaan Sotkamo"),
    ({"municipality_code": "091"}, "municipality_code", "Tuntematon koodi ”091”"),
    ({"latitude": "60.17", "longitude": "34.9"}, "latitude", "eivät ole Suomessa"),
    ({"latitude": "north"}, "latitude", "ei ole luku"),
    ({"longitude": ""}, "longitude", "molemmat"),
    ({"accessibility": "ramp"}, "accessibility", "Tuntematon koodi ”ramp”"),
    ({"contact_email": "not-an-address"}, "contact_email", "ei ole sähköpostiosoite"),
    ({"opening_type": "volunteering"}, "opening_type", "Tuntematon koodi"),
    ({"opening_title": ""}, "opening_title", "pakollinen"),
    ({"task_areas": ""}, "task_areas", "vähintään yksi"),
    ({"task_areas": "kitchen|juggling"}, "task_areas", "”juggling”"),
    ({"days_per_week_min": "two"}, "days_per_week_min", "ei ole kokonaisluku"),
    ({"days_per_week_max": "8"}, "days_per_week_max", "välillä 1–7"),
    ({"days_per_week_min": "4", "days_per_week_max": "3"}, "days_per_week_min", "suurempi kuin enimmäismäärä"),
    ({"days_per_week_max": "5"}, "days_per_week_max", "1–4 päivänä viikossa"),
    ({"hours_per_day_min": "3"}, "hours_per_day_min", "4–8 tuntia päivässä"),
    ({"hours_per_day_max": "9"}, "hours_per_day_max", "4–8 tuntia päivässä"),
    ({"hours_per_day_max": "25"}, "hours_per_day_max", "välillä"),
    ({"places_total": "-1"}, "places_total", "välillä 0–10000"),
    ({"places_total": ""}, "places_total", "pakollinen"),
    ({"places_total": "2", "places_external": "3"}, "places_external", "enemmän kuin paikkoja yhteensä"),
    ({"supports": "massage"}, "supports", "”massage”"),
    ({"physical_demand": "extreme"}, "physical_demand", "Tuntematon koodi"),
    ({"social_intensity": ""}, "social_intensity", "pakollinen"),
    ({"languages": "finnish"}, "languages", "ISO 639-1"),
    ({"languages": ""}, "languages", "vähintään yksi"),
    ({"status": "busy"}, "status", "Tuntematon koodi"),
    ({"last_confirmed": "yesterday"}, "last_confirmed", "ei ole päivämäärä"),
    ({"last_confirmed": "2099-01-01"}, "last_confirmed", "tulevaisuudessa"),
]


@pytest.mark.parametrize(
    "overrides, column, words", BAD_ROWS, ids=[b[1] + ":" + "/".join(b[0].values())[:20] for b in BAD_ROWS]
)
def test_a_bad_row_names_row_and_column_and_imports_nothing(db, overrides, column, words):
    good = site_row(site_ref="GOOD-1", opening_title="Hyvä rivi")
    bad = site_row(site_ref="BAD-1", **overrides) if "site_ref" not in overrides else site_row(**overrides)

    result = import_and_commit(db, csv_bytes([good, bad]))

    assert not result.ok
    matching = [p for p in result.problems if p.row == 3 and p.column == column]
    assert matching, [str(p) for p in result.problems]
    assert any(words in p.message for p in matching), [p.message for p in matching]
    assert counts(db) == (0, 0, 0, 0)


def test_every_problem_is_reported_not_just_the_first(db):
    rows = [site_row(postal_code="00100"), site_row(site_ref="B", opening_type="nope", places_total="x")]
    result = import_and_commit(db, csv_bytes(rows))

    assert {(p.row, p.column) for p in result.problems} >= {
        (2, "postal_code"),
        (3, "opening_type"),
        (3, "places_total"),
    }


def test_a_bad_row_in_an_update_leaves_the_stored_data_as_it_was(db, build):
    build.site()
    result = import_and_commit(
        db, csv_bytes([site_row(site_name="Muutettu"), site_row(site_ref="X", places_total="-5")])
    )

    assert not result.ok
    assert db.session.scalar(select(Site)).name == "Testikeittiö"
    assert counts(db) == (1, 1, 1, 1)


def test_non_utf8_file_is_refused_with_advice(db):
    data = csv_bytes([site_row(site_name="Pässinpää")]).decode("utf-8").encode("latin-1")
    result = import_and_commit(db, data)

    assert len(result.problems) == 1
    assert "UTF-8" in result.problems[0].message and "CSV UTF-8" in result.problems[0].message
    assert result.problems[0].row == 2
    assert counts(db) == (0, 0, 0, 0)


def test_missing_and_unknown_columns_are_reported_on_the_header_row(db):
    columns = [c for c in site_csv.COLUMNS if c != "places_total"] + ["colour"]
    result = import_and_commit(db, csv_bytes([site_row()], columns=columns))

    assert {(p.row, p.column) for p in result.problems} == {(1, "places_total"), (1, "colour")}


def test_row_with_wrong_number_of_cells_is_reported(db):
    data = csv_bytes([site_row()]) + b"only,three,cells\r\n"
    result = import_and_commit(db, data)

    assert [(p.row, "3 solua" in p.message) for p in result.problems] == [(3, True)]


@pytest.mark.parametrize(
    "data, words",
    [(b"", "tyhjä"), (b"\xef\xbb\xbf", "tyhjä"), (",".join(site_csv.COLUMNS).encode(), "ei yhtään tietoriviä")],
)
def test_empty_files_are_refused(db, data, words):
    result = import_and_commit(db, data)
    assert words in result.problems[0].message


def test_rows_of_one_site_must_agree_on_site_columns(db):
    rows = [
        site_row(),
        site_row(
            opening_type="work_trial", opening_title="Kokeilu", days_per_week_max="5", street_address="Toinen katu 2"
        ),
    ]
    result = import_and_commit(db, csv_bytes(rows))

    assert [(p.row, p.column) for p in result.problems] == [(3, "street_address")]
    assert "rivistä 2" in result.problems[0].message


def test_the_same_opening_twice_for_a_site_is_refused(db):
    result = import_and_commit(db, csv_bytes([site_row(), site_row()]))
    assert [(p.row, p.column) for p in result.problems] == [(3, "opening_title")]


def test_one_organisation_cannot_have_two_kinds(db):
    rows = [site_row(), site_row(site_ref="OTHER", organisation_kind="foundation")]
    result = import_and_commit(db, csv_bytes(rows))
    assert [(p.row, p.column) for p in result.problems] == [(3, "organisation_kind")]


def test_reimport_cannot_cut_places_below_active_placements(db, build):
    opening = build.opening()
    opening.places_taken = 3  # as if three placements were active
    db.session.commit()

    result = import_and_commit(db, csv_bytes([site_row(places_total="3")]))  # 3 - 1 external < 3 taken

    assert [(p.row, p.column) for p in result.problems] == [(2, "places_total")]
    assert db.session.get(Opening, opening.id).places_total == 5


def test_formula_prefix_added_on_export_is_removed_on_import(db):
    import_and_commit(db, csv_bytes([site_row(description="'=1+2", contact_name="'@SUM(A1)")]))
    site = db.session.scalar(select(Site))
    assert site.description == "=1+2" and site.contact_name == "@SUM(A1)"


def test_reimporting_an_older_file_never_moves_a_confirmation_back(db, build):
    from placements.services.sites import confirm

    opening = build.opening(last_confirmed="2026-01-02")
    confirm(db.session, opening, SYSTEM, expected_version=opening.version, now=datetime.now(UTC))
    db.session.commit()

    result = import_and_commit(db, csv_bytes([site_row(last_confirmed="2026-01-02", places_external="0")]))

    assert result.ok
    reloaded = db.session.get(Opening, opening.id)
    assert reloaded.last_confirmed_at.date() == datetime.now(UTC).date()
    assert result.changes == [("TEST-001", "Keittiöapulainen", ("places_external: 1 → 0",))]


def test_the_result_names_the_sites_it_creates_and_changes(db, build):
    build.site(site_ref="OLD-1", site_name="Vanha paja")
    build.site(site_ref="SAME-1", site_name="Ennallaan", opening_title="Sama")
    data = csv_bytes(
        [
            site_row(site_ref="OLD-1", site_name="Vanha paja", places_total="9"),
            site_row(site_ref="SAME-1", site_name="Ennallaan", opening_title="Sama"),
            site_row(site_ref="NEW-1", site_name="Uusi paja"),
        ]
    )

    preview = import_and_commit(db, data, dry_run=True)

    assert preview.new_sites == [SiteChange("NEW-1", "Uusi paja", "205", openings_created=1)]
    assert preview.changed_sites == [SiteChange("OLD-1", "Vanha paja", "205", openings_updated=1)]
    assert preview.changes == [("OLD-1", "Keittiöapulainen", ("places_total: 5 → 9",))]
    assert (preview.sites_created, preview.sites_updated, preview.sites_unchanged) == (1, 1, 1)
    applied = import_and_commit(db, data)
    assert (applied.new_sites, applied.changed_sites, applied.changes) == (
        preview.new_sites,
        preview.changed_sites,
        preview.changes,
    )


def test_the_changed_sites_name_the_columns_that_change_and_a_stored_result_reads_back(db, build):
    build.site(site_ref="OLD-1", site_name="Vanha paja", street_address="Kauppakatu 1")
    data = csv_bytes(
        [
            site_row(site_ref="OLD-1", site_name="Uusi nimi", street_address="Kauppakatu 2", latitude="64.2260"),
            site_row(
                site_ref="OLD-1",
                site_name="Uusi nimi",
                street_address="Kauppakatu 2",
                latitude="64.2260",
                opening_title="Toinen",
            ),
        ]
    )
    preview = import_and_commit(db, data, dry_run=True)
    assert preview.changed_sites == [
        SiteChange("OLD-1", "Uusi nimi", "205", fields=("name", "street_address", "location"), openings_created=1)
    ]
    assert ImportResult.from_json(preview.to_json()).changed_sites == preview.changed_sites
    old = ImportResult.from_json({"new_sites": [["A-1", "Paja"]]})  # stored before municipalities were kept
    assert old.new_sites == [SiteChange("A-1", "Paja")]


def test_a_new_opening_title_updates_the_search_text_but_not_the_sites_version(db, build):
    site = build.site()
    version = site.version
    result = import_and_commit(db, csv_bytes([site_row(opening_title="Astianpesijä")]))

    assert result.openings_created == 1 and result.openings_archived == 1
    db.session.expire_all()
    site = db.session.get(Site, site.id)
    assert site.version == version  # an open site form stays valid
    assert "astianpesijä" in site.search_text and "keittiöapulainen" not in site.search_text


def test_a_row_changed_between_plan_and_write_stops_the_import(db, build, monkeypatch):
    """The bulk updates name each row's version, as the ORM's optimistic lock does."""
    from sqlalchemy.orm.exc import StaleDataError

    from placements.services.importer import apply as importer_apply

    site = build.site()
    real_write = importer_apply.write

    def edited_meanwhile(session, plan, user):
        with db.engine.begin() as connection:  # someone saves the site's form meanwhile
            connection.execute(Site.__table__.update().values(version=Site.__table__.c.version + 1))
        return real_write(session, plan, user)

    monkeypatch.setattr(importer_apply, "write", edited_meanwhile)
    with pytest.raises(StaleDataError):
        import_sites(db.session, csv_bytes([site_row(site_name="Uusi nimi")]), SYSTEM)
    db.session.rollback()
    assert db.session.get(Site, site.id).name == "Testikeittiö"


@pytest.mark.parametrize(
    "opening_type, title, expected",
    [
        ("rehabilitative_work", "Kuntouttava työtoiminta: eläintenhoito", "Eläintenhoito"),
        ("rehabilitative_work", "Kuntouttava työtoiminta: Kuntouttava työtoiminta: eläintenhoito", "Eläintenhoito"),
        ("rehabilitative_work", "kuntouttava työtoiminta – Puutyöt", "Puutyöt"),
        ("work_trial", "Työkokeilu - Varasto", "Varasto"),
        ("work_trial", "Work trial: warehouse", "Warehouse"),
        # not the row's own type, no separator, or nothing but the type: kept
        ("work_trial", "Kuntouttava työtoiminta: eläintenhoito", "Kuntouttava työtoiminta: eläintenhoito"),
        ("rehabilitative_work", "Kuntouttava työtoiminta keittiössä", "Kuntouttava työtoiminta keittiössä"),
        ("rehabilitative_work", "Kuntouttava työtoiminta:", "Kuntouttava työtoiminta"),
        ("rehabilitative_work", "Keittiöapulainen", "Keittiöapulainen"),
    ],
)
def test_plain_title_drops_a_leading_repeat_of_the_opening_type(app, opening_type, title, expected):
    """docs/rules.md §10.14"""
    assert site_csv.plain_title(title, opening_type) == expected


def test_an_imported_title_never_repeats_its_type(db):
    """docs/rules.md §10.14: the page shows "Kuntouttava työtoiminta: <title>", so a title that
    starts with its own type would read the type twice."""
    result = import_and_commit(
        db, csv_bytes([site_row(opening_title="Kuntouttava työtoiminta: Kuntouttava työtoiminta: eläintenhoito")])
    )

    assert result.ok, result.problems
    assert db.session.scalars(select(Opening.title)).all() == ["Eläintenhoito"]


def test_the_sample_data_has_no_title_that_repeats_its_type(app, seed_csv):
    """docs/rules.md §10.14: the sample file is already plain, so nothing is changed on import."""
    parsed = site_csv.parse(seed_csv)
    for _, row in parsed.rows:
        assert site_csv.plain_title(row["opening_title"], row["opening_type"]) == row["opening_title"]
