"""Finnish wording that users stumbled on (issue 12, item 20): each named string reads as a
Finnish social-work professional writes it, with one term per thing (docs/rules.md §1.1)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from placements import codes


@pytest.fixture
def finnish(app):
    with app.test_request_context(), force_locale("fi"):
        yield


def test_social_intensity_is_small_moderate_or_large(finnish):
    assert [str(codes.SOCIAL_INTENSITIES[k]) for k in ("low", "medium", "high")] == ["pieni", "kohtalainen", "suuri"]
    assert f"{_('Social interaction')}: {codes.SOCIAL_INTENSITIES['high']}" == "Sosiaalinen kuormittavuus: suuri"


def test_the_loosen_link_for_task_areas(finnish):
    assert _("in every task area") == "ilman tehtäväaluerajausta"


def test_an_unknown_near_value_is_not_called_a_non_municipality(finnish):
    text = _(
        "Near: “%(value)s” was not recognised. Give a Kainuu municipality, a Kainuu postal code or "
        "coordinates in Finland (e.g. 64.13,28.38).",
        value="Helsinki",
    )
    assert text == (
        "Lähellä: arvoa ”Helsinki” ei tunnistettu. Anna Kainuun kunta, kainuulainen postinumero tai "
        "koordinaatit Suomen alueelta (esim. 64.13,28.38)."
    )
    assert "ei ole kunta" not in text


def test_logging_out_other_devices_and_no_placement(finnish):
    assert _("Your password has been changed. Other sessions of your account were logged out.") == (
        "Salasanasi on vaihdettu. Sinut kirjattiin ulos kaikilla muilla laitteilla."
    )
    assert _("none") == "ei sijoitusta"  # the client list's placement column, never "Sijoitus: ei ole"
