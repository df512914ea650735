"""One rule for where a redirect may go: a path on this site (docs/rules.md §11.12).

The payloads that turn a "local" redirect into an open one — protocol-relative ``//``,
backslashes, tabs and line breaks a browser drops, schemes, percent-encoded forms — are
refused by ``safe_next`` and through every route that redirects to a caller's choice:
``POST /language`` (``next``) and the login (the page asked for, kept in the session).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placements.web.redirects import safe_next
from tests.builders import PASSWORD
from tests.conftest import csrf_token

SITE = "https://registry.example/now"
PAYLOADS = [
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    "\n//evil.example",
    " //evil.example",
    "/ /evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\x7f/evil.example",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0D%0A/evil.example",
    "/%00/evil.example",
    "/%5cevil.example",
    "/%5C%5Cevil.example",
    "/%2f/evil.example",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "https://evil.example",
    "HTTPS://evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "",
    "/sites\n",
    "/sites%0A",
    "/" + "a" * 2001,
]
LOCAL = ["/", "/sites", "/sites?q=kahvila&page=2", "/clients/K-2345-6789/needs", "/sites#kartta", "/sites?q=%C3%A4"]


def lands_on(location: str) -> tuple[str, str | None]:
    """(scheme, host) a browser goes to for this Location, with the WHATWG URL parser's
    clean-ups: leading and trailing control characters and spaces stripped, tabs and
    line breaks removed anywhere, backslashes read as slashes."""
    text = location.strip("".join(chr(c) for c in range(0x21)))
    text = re.sub(r"[\t\n\r]", "", text).replace("\\", "/")
    parts = urlsplit(urljoin(SITE, text))
    return parts.scheme, parts.hostname


def test_the_browser_model_sees_the_payloads_as_off_site():
    off_site = [p for p in PAYLOADS if lands_on(p) != ("https", "registry.example")]
    assert "/\t/evil.example" in off_site and "/\\evil.example" in off_site and "javascript:alert(1)" in off_site


@pytest.mark.parametrize("target", PAYLOADS, ids=repr)
def test_payloads_fall_back(target):
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", LOCAL)
def test_local_paths_are_kept(target):
    assert safe_next(target, "/fallback") == target


@pytest.mark.parametrize("target", [None, 5, ["/sites"], b"/sites"])
def test_anything_but_text_falls_back(target):
    assert safe_next(target, "/fallback") == "/fallback"


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(st.text(alphabet="/\\\t\n\r :@.%0259acdefjptvsx", max_size=24), st.text(max_size=24)))
def test_whatever_is_kept_stays_on_the_site(target):
    result = safe_next(target, "/fallback")
    assert result == "/fallback" or (result == target and lands_on(result) == ("https", "registry.example"))


@pytest.mark.parametrize("target", PAYLOADS, ids=repr)
def test_the_language_switch_never_redirects_off_site(client, target):
    token = csrf_token(client)
    response = client.post("/language", data={"lang": "en", "next": target, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_language_switch_returns_to_the_page(client):
    token = csrf_token(client)
    response = client.post("/language", data={"lang": "en", "next": "/sites?q=kahvila", "csrf_token": token})
    assert response.headers["Location"] == "/sites?q=kahvila"


@pytest.mark.parametrize("target", ["//evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example"])
def test_the_login_never_redirects_off_site(client, build, target):
    user = build.user("coordinator")
    with client.session_transaction() as session:
        session["next"] = target
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_login_returns_to_the_page_asked_for(client, build):
    user = build.user("coordinator")
    assert client.get("/admin/audit").status_code == 302
    with client.session_transaction() as session:
        assert session["next"] == "/admin/audit"
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/admin/audit"


@pytest.mark.parametrize("path", ["/\\evil.example", "/\t/evil.example", "/\\/evil.example", "/\n/evil.example"])
def test_an_unsafe_path_is_never_kept_for_after_the_login(app, path):
    from flask import request, session

    from placements.web.login import unauthorized

    with app.test_request_context("/", environ_overrides={"PATH_INFO": path}):
        assert request.path == path
        session["next"] = "/sites"
        response = unauthorized()
        assert response.status_code == 302
        assert "next" not in session
