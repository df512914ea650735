"""Every user-facing string is in the catalogues, translated into Finnish and English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    target = tmp_path_factory.mktemp("pot") / "messages.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l"]
    command += ["-o", str(target), "--omit-header", "."]
    # run() kills the extractor if it fails or overruns the timeout: it never outlives the test.
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=300)
    with target.open("rb") as stream:
        ids = {message.id for message in read_po(stream) if message.id}
    assert "Kainuu placement registry" in ids and "kitchen" in ids  # templates and code
    return ids


def _complete(string) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


@pytest.mark.parametrize("locale", ["fi", "en"])
def test_catalogue_translates_every_string_in_the_code(extracted, locale):
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as stream:
        catalogue = read_po(stream)
    translated = {m.id for m in catalogue if m.id and _complete(m.string) and not m.fuzzy}
    missing = sorted(extracted - translated, key=str)
    assert missing == [], f"untranslated in {locale}: {missing} (run `make extract-messages`)"


def test_finnish_uses_the_agreed_terms():
    """docs/rules.md §1.1: the same Finnish term for the same thing everywhere."""
    with (ROOT / "translations" / "fi" / "LC_MESSAGES" / "messages.po").open("rb") as stream:
        catalogue = {m.id: m.string for m in read_po(stream) if m.id}
    assert catalogue["rehabilitative work activity"] == "kuntouttava työtoiminta"
    assert catalogue["work trial"] == "työkokeilu"
    assert catalogue["pay-subsidised work"] == "palkkatuettu työ"
    assert catalogue["IPS job (supported employment)"] == "IPS-työpaikka (tuettu työllistyminen)"
    assert catalogue["site host"] == "paikan yhdyshenkilö"
    assert catalogue["social worker"] == "sosiaaliohjaaja"
    assert catalogue["coordinator"] == "koordinaattori"
    assert catalogue["Sites"] == "Toimipaikat"
    assert catalogue["data out of date"] == "tiedot vanhentuneet"  # docs/rules.md §4.1


def test_every_audit_event_the_code_writes_has_a_label():
    import re

    from placements.codes import AUDIT_ACTIONS

    written = set()
    for path in (ROOT / "placements").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'(?:audit_event|audit\.record)\((?:session, |db\.session, )?"([a-z_]+)"', text))
        written |= set(re.findall(r'end_session\((?:reason=)?"([a-z_]+)"', text))
        written |= set(re.findall(r'"(user_(?:de|re)activated)"', text))
    assert written, "no audit events found in the code"
    assert written <= set(AUDIT_ACTIONS), sorted(written - set(AUDIT_ACTIONS))
