"""Stable codes of DESIGN.md §2 and §4 with their translated labels.

Codes are part of the data contract (CSV, API, database CHECKs); only the labels
are shown to people, always through the translation catalogue.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

OPENING_TYPES = {
    "rehabilitative_work": _l("rehabilitative work activity"),
    "work_trial": _l("work trial"),
    "pay_subsidy": _l("pay-subsidised work"),
    "ips_job": _l("IPS job (supported employment)"),
}

ORGANISATION_KINDS = {
    "municipality": _l("municipality"),
    "wellbeing_county": _l("wellbeing services county"),
    "association": _l("association"),
    "foundation": _l("foundation"),
    "company": _l("company"),
    "parish": _l("parish"),
    "social_enterprise": _l("social enterprise"),
    "employer": _l("employer"),
}

TASK_AREAS = {
    "kitchen": _l("kitchen"),
    "cafe_service": _l("café and customer service"),
    "cleaning": _l("cleaning"),
    "laundry": _l("laundry"),
    "recycling": _l("recycling"),
    "carpentry": _l("carpentry"),
    "metalwork": _l("metalwork"),
    "crafts_textiles": _l("crafts and textiles"),
    "gardening": _l("gardening"),
    "forestry": _l("forestry"),
    "property_maintenance": _l("property maintenance"),
    "warehouse_logistics": _l("warehouse and logistics"),
    "retail": _l("retail"),
    "office": _l("office work"),
    "it_support": _l("IT support"),
    "care_assistance": _l("care assistance"),
    "animal_care": _l("animal care"),
    "construction": _l("construction"),
    "transport": _l("transport"),
}

ACCESSIBILITY = {
    "step_free_access": _l("step-free access"),
    "accessible_toilet": _l("accessible toilet"),
    "elevator": _l("elevator"),
    "accessible_parking": _l("accessible parking"),
    "induction_loop": _l("induction loop"),
    "quiet_space": _l("quiet space"),
    "public_transport_nearby": _l("bus stop within 500 m"),
}

SUPPORTS = {
    "work_instructor": _l("work instructor"),
    "job_coach": _l("job coach"),
    "peer_support": _l("peer support"),
    "language_support": _l("language support"),
    "gradual_start": _l("gradual start"),
    "meal_provided": _l("meal provided"),
}

PHYSICAL_DEMANDS = {
    "light": _l("light"),
    "moderate": _l("moderate"),
    "heavy": _l("heavy"),
}

SOCIAL_INTENSITIES = {
    "low": _l("low"),
    "medium": _l("medium"),
    "high": _l("high"),
}

OPENING_STATUSES = {
    "open": _l("open"),
    "paused": _l("paused"),
    "closed": _l("closed"),
}

GEOCODE_PRECISIONS = {
    "exact": _l("exact address"),
    "postal_code": _l("postal code area"),
    "municipality": _l("municipal centre"),
    "manual": _l("set by hand"),
}

AGE_BANDS = {
    "18-24": "18–24",
    "25-29": "25–29",
    "30-39": "30–39",
    "40-49": "40–49",
    "50-59": "50–59",
    "60+": "60+",
}

GENDERS = {
    "female": _l("female"),
    "male": _l("male"),
    "other": _l("other"),
    "unknown": _l("not recorded"),
}

CLIENT_STATUSES = {
    "active": _l("active"),
    "closed": _l("closed"),
}

PLACEMENT_STATUSES = {
    "proposed": _l("proposed"),
    "active": _l("active"),
    "ended": _l("ended"),
    "cancelled": _l("cancelled"),
    "declined": _l("declined"),
}

END_REASONS = {
    "completed": _l("completed as planned"),
    "employed": _l("employed"),
    "education": _l("started education"),
    "health": _l("health reasons"),
    "moved": _l("moved away"),
    "dropped_out": _l("dropped out"),
    "other": _l("other reason"),
}

ROLES = {
    "host": _l("site host"),
    "social_worker": _l("social worker"),
    "coordinator": _l("coordinator"),
}

CAPACITY_EVENT_KINDS = (
    "capacity_changed",
    "confirmed",
    "placement_started",
    "placement_ended",
)

# ISO 639-1 codes offered in forms; any valid two-letter code is accepted on import.
COMMON_LANGUAGES = {
    "fi": _l("Finnish"),
    "sv": _l("Swedish"),
    "en": _l("English"),
    "ru": _l("Russian"),
    "et": _l("Estonian"),
    "ar": _l("Arabic"),
    "so": _l("Somali"),
    "fa": _l("Persian"),
    "uk": _l("Ukrainian"),
    "se": _l("Northern Sami"),
}

# Rehabilitative work activity limits (Act 189/2001, 13 §, as amended 142/2015).
KTT_DAYS_PER_WEEK = (1, 4)
KTT_HOURS_PER_DAY = (4, 8)
KTT_PERIOD_MONTHS = (3, 24)

# Why an opening does not match a client's needs: one label per hard filter (DESIGN.md §5).
MATCH_FILTERS = {
    "type": _l("not a kind of place the client is looking for"),
    "status": _l("not taking participants (paused or closed)"),
    "free_place": _l("no free place"),
    "accessibility": _l("lacks accessibility the client needs"),
    "supports": _l("lacks support the client needs"),
    "physical_demand": _l("physically too demanding"),
    "social_intensity": _l("too much contact with other people"),
    "schedule": _l("needs more days or hours than the client can do"),
    "distance": _l("farther than the client can travel"),
    "public_transport": _l("no bus stop nearby"),
    "language": _l("no shared working language"),
}
