"""The application shell: factory, settings, error pages, health check, language."""

from __future__ import annotations

import re

import pytest
from flask import abort, request
from werkzeug.exceptions import default_exceptions

from placements import create_app
from tests.conftest import ROOT, base_config


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PLACEMENTS_ENV", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_flask_commands_run_without_a_secret_key_but_servers_do_not(monkeypatch, tmp_path):
    import click

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PLACEMENTS_ENV", raising=False)
    config = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    with click.Context(click.Command("db")):
        first = create_app(config)
        second = create_app(config)
    assert len(first.config["SECRET_KEY"]) == 64 and first.config["SECRET_KEY"] != second.config["SECRET_KEY"]
    assert not (tmp_path / "dev-secret-key").exists()
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)


def test_flask_run_without_a_secret_key_refuses_like_gunicorn(monkeypatch, tmp_path):
    """`flask run` serves requests: in production it needs SECRET_KEY as a server does."""
    import click

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PLACEMENTS_ENV", raising=False)
    config = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    group = click.Context(click.Group("flask"), info_name="flask")
    with group, click.Context(click.Command("run"), parent=group, info_name="run"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app(config)


def test_flask_run_process_refuses_to_serve_without_a_secret_key(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "PLACEMENTS_ENV"}}
    env |= {"FLASK_APP": "wsgi", "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"}
    flask = Path(sys.executable).parent / "flask"
    result = subprocess.run(  # refuses before it binds the port
        [str(flask), "run", "--port", "5129"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_development_keeps_a_private_random_key_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PLACEMENTS_ENV", "development")
    first = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    second = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key_file = tmp_path / "dev-secret-key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) >= 64
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STALE_AFTER_DAYS", "30")
    monkeypatch.setenv("MAX_UPLOAD_MB", "2")
    monkeypatch.setenv("PUBLIC_CATALOGUE", "1")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    app = create_app({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["STALE_AFTER_DAYS"] == 30
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    assert app.config["PUBLIC_CATALOGUE"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(tmp_path / "placements.db")


def test_link_and_rate_limit_settings(monkeypatch, tmp_path):
    for name in ("SERVER_NAME", "PREFERRED_URL_SCHEME", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SERVER_NAME"] is None and app.config["PREFERRED_URL_SCHEME"] == "http"
    assert app.config["RATELIMIT_STORAGE_URI"] == "database://"  # shared by every worker
    monkeypatch.setenv("SERVER_NAME", "rekisteri.kainuu.example")
    app = create_app({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SERVER_NAME"] == "rekisteri.kainuu.example"
    assert app.config["PREFERRED_URL_SCHEME"] == "https"


def test_a_malformed_number_setting_stops_startup_with_its_name(monkeypatch, tmp_path):
    monkeypatch.setenv("STALE_AFTER_DAYS", "sixty")
    with pytest.raises(RuntimeError, match="STALE_AFTER_DAYS"):
        create_app({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})


def test_home_page_is_finnish_by_default(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fi">' in html
    assert "Kuntouttavan työtoiminnan ja tuetun työllistymisen paikat Kainuussa" in html
    assert 'href="#main"' in html and 'id="main"' in html
    assert "<nav" in html and "<header" in html and "<footer" in html


def test_home_page_counts_sites_and_free_places_by_municipality(client, build):
    build.site(places_total="5", places_external="1")
    html = client.get("/").get_data(as_text=True)
    row = re.search(r"Kajaani</th>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r">(\d+)<", row) == ["1", "1", "5", "4"]


def _csrf_token(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_language_switch_is_remembered_in_the_session(client):
    token = _csrf_token(client)
    response = client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Places for rehabilitative work activity and supported employment in Kainuu" in html
    assert "Suomeksi" in html

    client.post("/language", data={"lang": "fi", "csrf_token": token})
    assert '<html lang="fi">' in client.get("/").get_data(as_text=True)


def test_language_switch_needs_a_csrf_token(client):
    response = client.post("/language", data={"lang": "en"})
    assert response.status_code == 400
    assert '<html lang="fi">' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target, "csrf_token": _csrf_token(client)})
    assert response.headers["Location"] == "/"


def test_unknown_language_is_ignored(client):
    client.post("/language", data={"lang": "de", "csrf_token": _csrf_token(client)})
    assert '<html lang="fi">' in client.get("/").get_data(as_text=True)


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = create_app(base_config("sqlite:///" + str(tmp_path / "missing" / "no.db"), tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


ERROR_TITLES = {
    400: ("Virheellinen pyyntö", "Bad request"),
    403: ("Ei käyttöoikeutta", "No access"),
    404: ("Sivua ei löydy", "Page not found"),
    405: ("Pyyntötapa ei ole sallittu", "Method not allowed"),
    409: ("Ristiriita", "Conflict"),
    413: ("Tiedosto on liian suuri", "File too large"),
    429: ("Liian monta yritystä", "Too many attempts"),
    500: ("Jokin meni vikaan", "Something went wrong"),
    503: ("Palvelu ei ole käytettävissä", "Service unavailable"),
}


@pytest.fixture
def failing_app(app):
    app.config["MAX_CONTENT_LENGTH"] = 100

    @app.route("/fail/<int:code>", methods=["GET", "POST"])
    def fail(code):
        if code == 500:
            raise ValueError("secret internal detail")
        if code == 413:
            request.form.get("x")
        abort(code)

    app.config["WTF_CSRF_ENABLED"] = False
    return app


def error_page(client, code: int):
    if code == 404:
        return client.get("/no-such-page")
    if code == 413:
        return client.post("/fail/413", data={"x": "y" * 1000})
    return client.get(f"/fail/{code}")


@pytest.mark.parametrize("code", sorted(ERROR_TITLES))
def test_error_pages_are_finnish_and_hide_internals(failing_app, code):
    response = error_page(failing_app.test_client(), code)
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert ERROR_TITLES[code][0] in html and '<html lang="fi">' in html
    assert "Traceback" not in html and "secret internal detail" not in html


def test_api_errors_are_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Sivua ei löydy"


def test_navigation_shows_only_existing_pages(client):
    html = client.get("/").get_data(as_text=True)
    nav = re.search(r"<nav.*?</nav>", html, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', nav) == ["/"]


def test_every_error_the_app_names_has_a_page_in_finnish_and_in_english(failing_app):
    from placements.web.errors import MESSAGES

    assert set(MESSAGES) == set(ERROR_TITLES)  # each one is tested above, in Finnish
    assert set(MESSAGES) <= set(default_exceptions)  # real HTTP error codes
    client = failing_app.test_client()
    client.post("/language", data={"lang": "en"})
    for code, (finnish, english) in ERROR_TITLES.items():
        response = error_page(client, code)
        html = response.get_data(as_text=True)
        assert response.status_code == code
        assert '<html lang="en">' in html and english in html and finnish not in html, code
