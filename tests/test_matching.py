"""match_openings: every hard filter, the score's ordering, reasons, without HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from placements.services.matching import FILTERS, NeedsView, explain, match_openings

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
HOME = (64.2222, 27.7278)  # Kajaani centre


@dataclass
class FakeSite:
    name: str = "Testikeittiö"
    latitude: float = 64.2300
    longitude: float = 27.7400
    accessibility: tuple = ("step_free_access", "public_transport_nearby")
    archived_at: object = None


@dataclass
class FakeOpening:
    """The attributes matching reads, as a plain object (no database needed)."""

    title: str = "Keittiö"
    type: str = "rehabilitative_work"
    status: str = "open"
    task_areas: tuple = ("kitchen", "cleaning")
    days_per_week_min: int = 2
    hours_per_day_min: float = 4
    places_total: int = 5
    places_external: int = 0
    places_taken: int = 0
    supports: tuple = ("work_instructor", "meal_provided")
    physical_demand: str = "light"
    social_intensity: str = "low"
    languages: tuple = ("fi",)
    last_confirmed_at: datetime = NOW - timedelta(days=1)
    archived_at: object = None
    site: FakeSite = field(default_factory=FakeSite)

    @property
    def free_places(self) -> int:
        return max(self.places_total - self.places_external - self.places_taken, 0)


NEEDS = NeedsView(
    wanted_types=("rehabilitative_work",),
    task_areas=("kitchen",),
    days_per_week=3,
    hours_per_day=5,
    max_travel_km=20,
    accessibility=("step_free_access",),
    supports=("work_instructor",),
    max_physical_demand="moderate",
    max_social_intensity="medium",
    languages=("fi",),
)


def run(needs=NEEDS, openings=None, **kwargs):
    return match_openings(needs, openings or [FakeOpening()], home=HOME, now=NOW, stale_after_days=60, **kwargs)


def test_a_fitting_opening_matches_with_reasons():
    matches, excluded = run()
    assert excluded == [] and len(matches) == 1
    codes = [code for code, _ in matches[0].reasons]
    assert codes[:2] == ["distance", "free"] and ("task", {"code": "kitchen"}) in matches[0].reasons
    assert ("access", {"code": "step_free_access"}) in matches[0].reasons
    assert ("support", {"code": "work_instructor"}) in matches[0].reasons
    assert 0 <= matches[0].score <= 100


# Each hard filter, broken alone: (changed opening, changed needs, the filter that must fail)
BREAKS = [
    ({"type": "pay_subsidy"}, {}, "type"),
    ({"status": "paused"}, {}, "status"),
    ({"status": "closed"}, {}, "status"),
    ({"places_external": 5}, {}, "free_place"),
    ({"site": FakeSite(accessibility=("public_transport_nearby",))}, {}, "accessibility"),
    ({"supports": ("meal_provided",)}, {}, "supports"),
    ({"physical_demand": "heavy"}, {}, "physical_demand"),
    ({"social_intensity": "high"}, {}, "social_intensity"),
    ({"days_per_week_min": 4}, {}, "schedule"),
    ({"hours_per_day_min": 6}, {}, "schedule"),
    ({"site": FakeSite(latitude=64.60, longitude=27.74, accessibility=("step_free_access",))}, {}, "distance"),
    ({"site": FakeSite(accessibility=("step_free_access",))}, {"needs_public_transport": True}, "public_transport"),
    ({"languages": ("sv",)}, {}, "language"),
]


@pytest.mark.parametrize(
    "opening_changes, needs_changes, failed", BREAKS, ids=[b[2] + str(i) for i, b in enumerate(BREAKS)]
)
def test_each_hard_filter_excludes_and_says_why(opening_changes, needs_changes, failed):
    opening = replace(FakeOpening(), **opening_changes)
    needs = replace(NEEDS, **needs_changes)
    matches, excluded = run(needs, [opening])
    assert matches == []
    assert excluded[0].failed == [failed]
    assert explain(needs, opening, home=HOME).failed == [failed]


def test_every_filter_has_a_break_case_and_a_label(app):
    from placements.codes import MATCH_FILTERS

    assert {b[2] for b in BREAKS} == set(FILTERS) == set(MATCH_FILTERS)


def test_limits_are_inclusive():
    needs = replace(NEEDS, days_per_week=2, hours_per_day=4, max_physical_demand="light", max_social_intensity="low")
    assert run(needs)[0]


def test_full_openings_can_be_shown_as_waiting_list_candidates():
    full = FakeOpening(places_external=5)
    assert run(openings=[full])[0] == []
    matches, _ = run(openings=[full], include_full=True)
    assert matches[0].waiting_list


def test_a_client_needing_the_bus_needs_a_stop_and_the_distance_still_counts():
    needs = replace(NEEDS, needs_public_transport=True)
    far_with_stop = FakeOpening(
        site=FakeSite(latitude=64.60, accessibility=("step_free_access", "public_transport_nearby"))
    )
    assert run(needs, [FakeOpening()])[0]
    assert run(needs, [far_with_stop])[1][0].failed == ["distance"]


def test_score_prefers_task_overlap_then_nearness_then_support_then_fresh_data():
    base = FakeOpening(title="perus")
    no_task = replace(base, title="ei tehtävää", task_areas=("cleaning",))
    farther = replace(base, title="kauempana", site=FakeSite(latitude=64.30))
    fewer_supports = replace(base, title="vähemmän tukea", supports=("work_instructor",), site=FakeSite())
    stale = replace(base, title="vanha", last_confirmed_at=NOW - timedelta(days=90))
    richer = replace(base, title="enemmän tukea", supports=("work_instructor", "job_coach", "gradual_start"))
    matches, _ = run(openings=[stale, no_task, farther, base, richer, fewer_supports])
    order = [m.opening.title for m in matches]
    assert order.index("enemmän tukea") < order.index("perus")
    assert order.index("perus") < order.index("kauempana")
    assert order.index("perus") < order.index("vanha")
    assert order.index("perus") < order.index("ei tehtävää")
    scores = {m.opening.title: m.score for m in matches}
    assert scores["perus"] - scores["ei tehtävää"] == 40  # task overlap is worth 40 points
    assert ("stale", {}) in next(m.reasons for m in matches if m.opening.title == "vanha")


def test_ties_are_broken_by_distance():
    near = FakeOpening(title="lähellä", site=FakeSite(latitude=64.2250))
    far = FakeOpening(title="kaukana", site=FakeSite(latitude=64.2260))
    matches, _ = run(replace(NEEDS, max_travel_km=100000), [far, near])
    assert matches[0].score == matches[1].score
    assert [m.opening.title for m in matches] == ["lähellä", "kaukana"]


def test_distances_are_geodesic_from_home():
    from geopy.distance import geodesic

    matches, _ = run()
    assert matches[0].distance_km == pytest.approx(geodesic(HOME, (64.23, 27.74)).km)


# "Why not this one?" names the exact requirement (docs/rules.md §7.8): (opening, needs, expected detail)
DETAILS = [
    ({"type": "pay_subsidy"}, {}, ("type", {"type": "pay_subsidy", "wanted": ("rehabilitative_work",)})),
    ({"status": "paused"}, {}, ("status", {"status": "paused"})),
    ({"archived_at": NOW}, {}, ("status", {"status": "archived"})),
    ({"places_external": 5}, {}, ("free_place", {"total": 5})),
    (
        {"site": FakeSite(accessibility=("public_transport_nearby",))},
        {"accessibility": ("step_free_access", "elevator")},
        ("accessibility", {"missing": ("step_free_access", "elevator")}),
    ),
    ({"supports": ("meal_provided",)}, {}, ("supports", {"missing": ("work_instructor",)})),
    ({"physical_demand": "heavy"}, {}, ("physical_demand", {"demand": "heavy", "limit": "moderate"})),
    ({"social_intensity": "high"}, {}, ("social_intensity", {"level": "high", "limit": "medium"})),
    ({"days_per_week_min": 4}, {}, ("schedule", {"days": (4, 3)})),
    ({"days_per_week_min": 4, "hours_per_day_min": 6}, {}, ("schedule", {"days": (4, 3), "hours": (6, 5)})),
    ({"languages": ("sv",)}, {}, ("language", {"offered": ("sv",), "own": ("fi",)})),
    (
        {"site": FakeSite(accessibility=("step_free_access",))},
        {"needs_public_transport": True},
        ("public_transport", {}),
    ),
]


@pytest.mark.parametrize("opening_changes, needs_changes, detail", DETAILS, ids=[d[2][0] for d in DETAILS])
def test_why_not_names_the_requirement_and_the_openings_value(opening_changes, needs_changes, detail):
    opening = replace(FakeOpening(), **opening_changes)
    assert explain(replace(NEEDS, **needs_changes), opening, home=HOME).details == [detail]


def test_why_not_gives_the_distance_and_the_clients_limit():
    far = FakeOpening(site=FakeSite(latitude=64.52, longitude=27.74, accessibility=("step_free_access",)))
    (code, values), *_ = explain(NEEDS, far, home=HOME).details
    assert code == "distance" and values["limit"] == 20
    assert values["km"] == pytest.approx(33.2, abs=0.1)  # geodesic, to a tenth of a kilometre


def test_why_not_lists_every_failed_requirement_in_filter_order():
    opening = FakeOpening(languages=("sv",), type="pay_subsidy", physical_demand="heavy")
    assert [code for code, _ in explain(NEEDS, opening, home=HOME).details] == [
        "type",
        "physical_demand",
        "language",
    ]


def test_why_not_choices_are_grouped_by_municipality_and_can_be_narrowed():
    from placements.services.matching import why_not_choices

    @dataclass
    class Site:
        name: str
        municipality_code: str

    @dataclass
    class Opening:
        id: int
        title: str
        site: Site

    openings = [
        Opening(1, "Puutyöt", Site("Verstas", "765")),
        Opening(2, "Keittiö", Site("Tupa", "205")),
        Opening(3, "Siivous", Site("Aamu", "205")),
        Opening(4, "Kahvila", Site("Kulma", "105")),
    ]
    names = {"205": "Kajaani", "765": "Sotkamo", "105": "Hyrynsalmi"}
    groups = why_not_choices(openings, names)
    assert [g.name for g in groups] == ["Hyrynsalmi", "Kajaani", "Sotkamo"]
    assert [o.id for o in groups[1].openings] == [3, 2]  # by site name within the municipality
    assert [(g.name, [o.id for o in g.openings]) for g in why_not_choices(openings, names, "KEITT")] == [
        ("Kajaani", [2])
    ]
    assert [g.name for g in why_not_choices(openings, names, "sotkamo")] == ["Sotkamo"]
    assert why_not_choices(openings, names, "ei ole") == []


def test_map_markers_of_the_matches_follow_the_one_availability_rule():
    """docs/rules.md §8.6: free and fresh → f; stale (even with a free place) → s; full → x."""
    from placements.services.matching import site_markers

    fresh = FakeOpening()
    stale = FakeOpening(last_confirmed_at=NOW - timedelta(days=61), site=FakeSite(latitude=64.3))
    full = FakeOpening(places_external=5, site=FakeSite(latitude=64.4))
    for opening, site_id in ((fresh, 1), (stale, 2), (full, 3)):
        opening.site_id = site_id
    matches, _ = run(openings=[fresh, stale, full], include_full=True)
    states = {m[2]: m[3] for m in site_markers(matches, now=NOW, stale_after_days=60)}
    assert states == {1: "f", 2: "s", 3: "x"}
