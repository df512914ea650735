"""The site import as jobs (docs/rules.md §10.8, §10.13, §16): checked and applied by the
worker, with progress, exactly once, and never half-applied, also when the worker is killed."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from placements import clock
from placements.models import AuditEvent, CapacityEvent, ImportUpload, Job, Opening, Site
from placements.services.importer import apply as importer_apply
from placements.services.importer import jobs as import_jobs
from tests.builders import csv_bytes, site_row
from tests.conftest import ROOT, csrf_token, run_job, run_jobs

FLASK = Path(sys.executable).parent / "flask"


def _count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _rows(count: int, **overrides) -> bytes:
    return csv_bytes(
        [site_row(**({"site_ref": f"JOB-{n:04d}", "site_name": f"Paja {n}"} | overrides)) for n in range(1, count + 1)]
    )


def _upload(client, content: bytes, name: str = "sites.csv"):
    return client.post(
        "/admin/import",
        data={"csrf_token": csrf_token(client, "/admin/import"), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _confirm(client, token: str):
    return client.post(
        "/admin/import/confirm", data={"csrf_token": csrf_token(client, "/admin/import"), "token": token}
    )


def _job_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return int(re.fullmatch(r"/jobs/(\d+)", response.headers["Location"]).group(1))


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


@pytest.fixture
def coordinator(build, login):
    user = build.user("coordinator")
    login(user)
    return user


def test_the_check_reports_its_progress_and_keeps_the_upload_for_confirmation(client, db, coordinator):
    job_id = _job_id(_upload(client, _rows(3)))
    job = db.session.get(Job, job_id)
    assert (job.kind, job.status, job.owner_id) == (import_jobs.CHECK, "queued", coordinator.id)
    assert _count(db, ImportUpload) == 1

    run_job()

    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "done" and (job.done, job.total) == (6, 6)  # each row checked, then planned
    assert [item[:3] for item in job.outcome["new_sites"][:2]] == [
        ["JOB-0001", "Paja 1", "205"],
        ["JOB-0002", "Paja 2", "205"],
    ]
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Tiedosto on kunnossa: 3 riviä." in html and "Toimipaikat: 3 uutta" in html
    assert _token(html) == db.session.scalar(select(ImportUpload.token))
    assert _count(db, Site) == 0


def test_the_preview_names_the_sites_it_creates_and_changes_and_what_changes(client, db, build, coordinator):
    """Item 16 of issue 12: the preview lists the sites by name and municipality, not only counts."""
    build.site(site_ref="OLD-1", site_name="Vanha paja", street_address="Kauppakatu 1")
    build.site(site_ref="GONE-1", site_name="Arkistoitava paja")
    content = csv_bytes(
        [
            site_row(site_ref="OLD-1", site_name="Vanha paja", street_address="Kauppakatu 3", places_total="9"),
            site_row(site_ref="OLD-1", site_name="Vanha paja", street_address="Kauppakatu 3", opening_title="Uusi"),
            site_row(site_ref="NEW-1", site_name="Uusi paja", municipality_code="765", postal_code="88600"),
        ]
    )
    job_id = _job_id(_upload(client, content))
    run_job()
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)

    created = html[html.index("Uudet toimipaikat") :]
    assert re.search(r"<strong>Uusi paja</strong>, Sotkamo <span class=\"muted\">\(NEW-1\)</span> – 1 tehtävä", created)
    changed = html[html.index("Muuttuvat toimipaikat") :]
    assert re.search(
        r"<strong>Vanha paja</strong>, Kajaani <span class=\"muted\">\(NEW-1\)</span>".replace("NEW", "OLD")
        + r" – muuttuu: Katuosoite; 1 uusi tehtävä; 1 tehtävä muuttuu",
        changed,
    ), changed[:600]
    assert "Arkistoitava paja" not in html  # not in the file: not changed
    assert "<strong>OLD-1</strong>: Keittiöapulainen – Paikkoja yhteensä: 5 → 9" in html


def test_a_file_with_problems_is_not_kept(client, db, coordinator):
    job_id = _job_id(_upload(client, _rows(2, places_total="x")))
    run_job()
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Tiedostossa on 2 virhettä; mitään ei tuotu." in html and 'name="token"' not in html
    assert _count(db, ImportUpload) == 0


def test_the_preview_is_in_the_language_of_the_upload(client, db, coordinator):
    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/"})
    job_id = _job_id(_upload(client, _rows(1, places_total="x")))
    run_job()
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "The file has 1 problem; nothing was imported." in html
    assert "is not a whole number" in html


def test_confirming_imports_once_and_the_page_shows_the_summary(client, db, coordinator):
    check = _job_id(_upload(client, _rows(2)))
    run_job()
    token = _token(client.get(f"/jobs/{check}").get_data(as_text=True))

    first, second = _job_id(_confirm(client, token)), _job_id(_confirm(client, token))
    assert first == second  # a double click queues one import
    run_jobs()

    assert _count(db, Site) == 2 and _count(db, ImportUpload) == 0
    html = client.get(f"/jobs/{first}").get_data(as_text=True)
    assert "Tuotiin 2 riviä: toimipaikkoja 2 uutta ja 0 muuttunutta" in html
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sites_import")).one()
    assert (event.user_email, event.ip_address) == (coordinator.email, "job")
    check_page = client.get(f"/jobs/{check}").get_data(as_text=True)
    assert 'name="token"' not in check_page and f'href="/jobs/{first}"' in check_page


def test_importing_the_same_file_again_changes_nothing(client, db, coordinator):
    for _ in range(2):
        check = _job_id(_upload(client, _rows(3)))
        run_job()
        _job_id(_confirm(client, _token(client.get(f"/jobs/{check}").get_data(as_text=True))))
        run_job()
        if _ in (0,):
            before = (
                _count(db, Site),
                _count(db, Opening),
                _count(db, CapacityEvent),
                db.session.scalars(select(Site.version).order_by(Site.id)).all(),
                db.session.scalars(select(Opening.last_confirmed_at).order_by(Opening.id)).all(),
            )
    after = (
        _count(db, Site),
        _count(db, Opening),
        _count(db, CapacityEvent),
        db.session.scalars(select(Site.version).order_by(Site.id)).all(),
        db.session.scalars(select(Opening.last_confirmed_at).order_by(Opening.id)).all(),
    )
    assert after == before
    last = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    assert last.outcome["sites_unchanged"] == 3 and last.outcome["sites_updated"] == 0


def test_another_coordinator_sees_the_preview_but_cannot_confirm_it(client, app, db, build, coordinator):
    from tests.conftest import log_in

    check = _job_id(_upload(client, _rows(1)))
    run_job()
    token = _token(client.get(f"/jobs/{check}").get_data(as_text=True))

    other = app.test_client()
    assert log_in(other, build.user("coordinator").email, "correct horse battery staple").status_code == 302
    html = other.get(f"/jobs/{check}").get_data(as_text=True)
    assert "Tiedosto on kunnossa: 1 riviä." in html and 'name="token"' not in html
    response = other.post(
        "/admin/import/confirm", data={"csrf_token": csrf_token(other, "/admin/import"), "token": token}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/import"
    assert _count(db, Job) == 1


def test_an_expired_upload_cannot_be_imported(client, db, coordinator):
    check = _job_id(_upload(client, _rows(1)))
    run_job()
    token = _token(client.get(f"/jobs/{check}").get_data(as_text=True))
    apply_job = _job_id(_confirm(client, token))
    db.session.execute(update(ImportUpload).values(created_at=clock.now() - timedelta(hours=25)))
    db.session.commit()

    run_job()

    html = client.get(f"/jobs/{apply_job}").get_data(as_text=True)
    assert "Tarkistettu tiedosto ei ole enää saatavilla. Lataa se uudelleen." in html
    assert _count(db, Site) == 0
    assert _confirm(client, "no-such-token").headers["Location"] == "/admin/import"


def test_a_change_in_the_registry_after_the_check_is_caught_at_import(client, db, build, coordinator):
    site = build.site(site_ref="JOB-0001", site_name="Paja 1", places_total="5", places_external="0")
    check = _job_id(_upload(client, _rows(1, places_total="2", places_external="0")))
    run_job()
    token = _token(client.get(f"/jobs/{check}").get_data(as_text=True))
    db.session.execute(update(Opening).where(Opening.site_id == site.id).values(places_taken=3))
    db.session.commit()

    apply_job = _job_id(_confirm(client, token))
    run_job()

    html = client.get(f"/jobs/{apply_job}").get_data(as_text=True)
    assert "Rekisterin tiedot muuttuivat tiedoston tarkistuksen jälkeen" in html
    assert db.session.scalar(select(Opening.places_total)) == 5


def test_a_row_changed_while_the_import_writes_makes_it_run_again(client, db, build, coordinator, monkeypatch):
    """The bulk updates check each row's version, as the ORM's optimistic lock does: a site
    edited between the plan and the write stops the import, which then runs again from the
    start and includes the edit."""
    site = build.site(site_ref="JOB-0001", site_name="Paja 1")
    check = _job_id(_upload(client, _rows(1, site_name="Uusi nimi")))
    run_job()
    token = _token(client.get(f"/jobs/{check}").get_data(as_text=True))
    real_write, calls = importer_apply.write, []

    def edited_meanwhile(session, plan, user):
        calls.append(1)
        if len(calls) == 1:
            with db.engine.begin() as connection:
                connection.execute(update(Site.__table__).values(version=Site.__table__.c.version + 1))
        return real_write(session, plan, user)

    monkeypatch.setattr(importer_apply, "write", edited_meanwhile)
    apply_job = _job_id(_confirm(client, token))
    run_jobs()

    job = db.session.get(Job, apply_job)
    db.session.refresh(job)
    assert (job.status, job.attempts, len(calls)) == ("done", 2, 2)
    db.session.expire_all()
    assert db.session.get(Site, site.id).name == "Uusi nimi"
    assert db.session.get(Site, site.id).version == 3  # the edit, then the import


# --- a real worker process, killed in the middle of an import ------------------------------


def _wait_for(condition, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the worker exited ({process.returncode}): {log.read_text()[-3000:] if log else ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out; worker log: {log.read_text()[-3000:] if log else ''}")
        time.sleep(0.1)


def _start_worker(url: str, tmp_path: Path, hold: Path, log: Path) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi",
        "INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "JOB_HOLD_FILE": str(hold),
        "JOB_STALE_SECONDS": "2",
        "GEOCODER": "offline",
    }
    env.pop("PLACEMENTS_ENV", None)
    with open(log, "ab") as stream:
        return subprocess.Popen(
            [str(FLASK), "jobs", "work", "--poll", "0.2"], cwd=ROOT, env=env, stdout=stream, stderr=stream
        )


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def test_a_worker_killed_in_the_middle_of_an_import_leaves_nothing_and_the_import_runs_again(
    client, db, coordinator, tmp_path
):
    check = _job_id(_upload(client, _rows(40)))
    run_job()
    token = _token(client.get(f"/jobs/{check}").get_data(as_text=True))
    apply_job = _job_id(_confirm(client, token))
    url = db.engine.url.render_as_string(hide_password=False)
    hold, log = tmp_path / "hold", tmp_path / "worker.log"
    hold.touch()
    first = second = None
    try:
        first = _start_worker(url, tmp_path, hold, log)
        # The worker has written every site and opening of the import, not yet committed.
        _wait_for(lambda: Path(f"{hold}.applied").exists(), 120, first, log)
        job = db.session.get(Job, apply_job)
        db.session.refresh(job)
        assert (job.status, job.attempts) == ("running", 1)
        assert _count(db, Site) == 0 and _count(db, CapacityEvent) == 0

        first.kill()  # kill -9: no chance to clean up
        first.wait(timeout=30)
        assert _count(db, Site) == 0 and _count(db, Opening) == 0 and _count(db, CapacityEvent) == 0

        hold.unlink()
        second = _start_worker(url, tmp_path, hold, log)

        def finished() -> bool:
            db.session.expire_all()
            return db.session.get(Job, apply_job).status in ("done", "failed")

        _wait_for(finished, 120, second, log)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        _stop(second)

    job = db.session.get(Job, apply_job)
    assert (job.status, job.attempts, job.error) == ("done", 2, None)
    assert job.outcome["sites_created"] == 40
    assert _count(db, Site) == 40 and _count(db, Opening) == 40 and _count(db, CapacityEvent) == 40
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sites_import")).all()) == 1
    assert _count(db, ImportUpload) == 0
