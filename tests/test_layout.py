"""The layers stay apart (docs/architecture.md): the domain never reads the request."""

from __future__ import annotations

import re

from tests.conftest import ROOT

# The app context (current_app: settings, templates) is fine in a service; the request is not.
REQUEST_GLOBALS = re.compile(r"from flask import .*\b(request|session|g)\b|from flask_login import .*current_user")


def _modules(folder: str):
    return sorted((ROOT / "placements" / folder).rglob("*.py"))


def test_services_never_read_the_request_or_import_the_web_layer():
    offenders = []
    for path in _modules("services") + [
        ROOT / "placements" / name for name in ("permissions.py", "errors.py", "geo.py")
    ]:
        text = path.read_text(encoding="utf-8")
        if REQUEST_GLOBALS.search(text) or "placements.web" in text or "from placements.catalogue" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_commands_do_not_import_the_web_layer():
    offenders = [str(p.relative_to(ROOT)) for p in _modules("cli") if "placements.web" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_no_code_cites_a_specification_outside_the_repository():
    outside = "DESIGN" + ".md"  # spelled apart so this file does not find itself
    offenders = [
        f"{path.relative_to(ROOT)}"
        for folder in ("placements", "tests", "bench", "templates", "docs")
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and path.suffix in {".py", ".html", ".md"} and outside in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
