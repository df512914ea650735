"""Client codes never reach the access log."""

from __future__ import annotations

from types import SimpleNamespace

from gunicorn.config import Config

from placements.web.logs import RedactingLogger, redact


def test_client_codes_are_removed_from_text():
    assert redact("GET /clients/K-7F3Q-92XD/needs HTTP/1.1") == "GET /clients/K-XXXX-XXXX/needs HTTP/1.1"


def test_gunicorn_access_log_atoms_hide_client_codes():
    logger = RedactingLogger(Config())
    request = SimpleNamespace(
        headers=[("REFERER", "http://x/clients/K-7F3Q-92XD")],
        method="GET",
        path="/clients/K-7F3Q-92XD",
        query="",
        uri="/clients/K-7F3Q-92XD",
        version=(1, 1),
    )
    response = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/clients/K-7F3Q-92XD",
        "PATH_INFO": "/clients/K-7F3Q-92XD",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "http://x/clients/K-7F3Q-92XD",
    }
    from datetime import timedelta

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))
    assert not any("K-7F3Q-92XD" in value for value in atoms.values() if isinstance(value, str))
    assert "K-XXXX-XXXX" in atoms["U"]


def test_link_secrets_are_removed_from_text():
    line = 'GET /account/set-password/AbC-123_x HTTP/1.1" 200 "http://x/confirm/eyJvIjo.sig"'
    assert redact(line) == 'GET /account/set-password/… HTTP/1.1" 200 "http://x/confirm/…"'
