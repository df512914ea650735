"""Checks shared by the importer and the forms: business ID, coordinates, schedules."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from placements.codes import KTT_DAYS_PER_WEEK, KTT_HOURS_PER_DAY

# Mainland Finland and Åland with a small margin: (south, north, west, east).
FINLAND_BOUNDS = (59.3, 70.2, 19.0, 31.7)

_BUSINESS_ID = re.compile(r"^(\d{7})-(\d)$")
_BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")


def business_id_valid(value: str) -> bool:
    """Finnish business ID (Y-tunnus) ``1234567-8`` with a correct check digit."""
    match = _BUSINESS_ID.match(value.strip())
    if not match:
        return False
    digits, check = match.group(1), int(match.group(2))
    remainder = sum(int(d) * w for d, w in zip(digits, _BUSINESS_ID_WEIGHTS, strict=True)) % 11
    if remainder == 1:
        return False
    return check == (0 if remainder == 0 else 11 - remainder)


def inside_finland(latitude: float, longitude: float) -> bool:
    south, north, west, east = FINLAND_BOUNDS
    return south <= latitude <= north and west <= longitude <= east


def schedule_problems(
    opening_type: str,
    days_min: int,
    days_max: int,
    hours_min: float,
    hours_max: float,
) -> list[tuple[str, str]]:
    """(field, message) pairs for an impossible schedule or one outside the KTT limits."""
    problems: list[tuple[str, str]] = []
    if days_min > days_max:
        problems.append(("days_per_week_min", _("The minimum days per week is larger than the maximum.")))
    if hours_min > hours_max:
        problems.append(("hours_per_day_min", _("The minimum hours per day is larger than the maximum.")))
    if opening_type == "rehabilitative_work":
        low, high = KTT_DAYS_PER_WEEK
        for field, value in (("days_per_week_min", days_min), ("days_per_week_max", days_max)):
            if not low <= value <= high:
                problems.append(
                    (
                        field,
                        _(
                            "Rehabilitative work activity is %(low)s–%(high)s days a week (Act 189/2001, 13 §).",
                            low=low,
                            high=high,
                        ),
                    )
                )
        low, high = KTT_HOURS_PER_DAY
        for field, value in (("hours_per_day_min", hours_min), ("hours_per_day_max", hours_max)):
            if not low <= value <= high:
                problems.append(
                    (
                        field,
                        _(
                            "Rehabilitative work activity is %(low)s–%(high)s hours a day (Act 189/2001, 13 §).",
                            low=low,
                            high=high,
                        ),
                    )
                )
    return problems


def postal_code_problem(
    code: str, postal, municipality_code: str | None, municipality_names: dict[str, str]
) -> str | None:
    """Why ``code`` cannot be the postal code of a site in ``municipality_code`` (None if it can).

    ``postal`` is the PostalCode row for ``code`` or None when it is not a Kainuu code.
    """
    from placements.models.geo import STREET_ADDRESS_AREA

    if not re.fullmatch(r"\d{5}", code or ""):
        return _("A postal code has five digits.")
    if postal is None:
        return _("%(code)s is not a postal code in Kainuu.", code=code)
    if postal.type_code != STREET_ADDRESS_AREA:
        return _("%(code)s is a PO box or corporate postal code, not a street address area.", code=code)
    if municipality_code in municipality_names and postal.municipality_code != municipality_code:
        return _(
            "Postal code %(code)s belongs to %(actual)s, not to municipality %(given)s.",
            code=code,
            actual=municipality_names[postal.municipality_code],
            given=municipality_code,
        )
    return None
