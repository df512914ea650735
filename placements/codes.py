"""Stable codes (docs/rules.md §1) with their translated labels.

Codes are part of the data contract (CSV, API, database CHECKs); only the labels
are shown to people, always through the translation catalogue.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

# Client codes (docs/rules.md §6.1): "K-" and two groups of four unambiguous characters
# (no 0/O, 1/I/L), e.g. K-7F3Q-92XD.
CLIENT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CLIENT_CODE = re.compile(r"K-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")

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

# Survey rounds (docs/rules.md §17): where a round, an organisation's answer and the answer
# about one opening stand.
ROUND_STATUSES = {"opening": _l("being opened"), "open": _l("open"), "closed": _l("closed")}
RESPONSE_STATUSES = {"not_started": _l("not started"), "in_progress": _l("in progress"), "submitted": _l("sent")}
LINE_ANSWERS = {
    "pending": _l("Not answered yet"),
    "confirmed": _l("Confirm as is"),
    "corrected": _l("Correct"),
    "closed": _l("No longer exists (closed)"),
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

# What a placement is on a given day (docs/rules.md §5.1): the stored statuses, and "agreed"
# for an accepted placement whose start date has not come yet. Derived, never stored.
PLACEMENT_STATES = {
    "proposed": _l("proposed"),
    "agreed": _l("agreed"),
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

# Notifications (docs/rules.md §15): what happened, who is told. The labels name each kind on
# the preferences page.
NOTIFICATION_KINDS = {
    "proposal_made": _l("A placement is proposed at our opening"),
    "proposal_reminder": _l("A proposal at our opening has waited five working days"),
    "proposal_accepted": _l("The host accepted my proposal"),
    "proposal_declined": _l("The host declined my proposal"),
    "proposal_unanswered": _l("My proposal has waited five working days"),
    "placement_cancelled": _l("A proposal or agreed placement was cancelled"),
    "placement_starting": _l("A placement starts tomorrow"),
    "placement_ending": _l("A placement ends in two weeks"),
    "clients_transferred": _l("Clients were moved to me or from me"),
    "stale_digest": _l("Weekly reminder of our openings whose data is out of date"),
    "account": _l("My account: set or reset password"),
    "queue_place_free": _l("A place freed up where my client is first in the queue"),
    "round_invitation": _l("A survey round asks our organisation to answer"),
    "round_reminder": _l("Reminder: our answer to a survey round is missing"),
}
# Kinds a user cannot turn off or delay: the mail carries what the user needs to log in.
ALWAYS_IMMEDIATE = ("account",)

DELIVERIES = {
    "immediate": _l("E-mail at once"),
    "daily": _l("Daily summary by e-mail"),
    "inbox": _l("Only in the registry"),
}

# Where a notification stands with e-mail: inbox only, in the outbox, waiting for the daily
# summary, or sent.
NOTIFICATION_EMAIL_STATES = ("none", "pending", "digest", "sent")

OUTBOX_STATUSES = {
    "pending": _l("waiting"),
    "sending": _l("being sent"),
    "sent": _l("sent"),
    "failed": _l("failed"),
}

JOB_STATUSES = ("queued", "running", "done", "failed")

USER_LANGUAGES = {"fi": "suomi", "en": "English"}
# Why a set-password link was made: a new account, or a password reset (docs/rules.md §11.8).
PASSWORD_LINK_PURPOSES = ("invite", "reset")

# Waiting lists (docs/rules.md §18.3): where an entry stands, and why it left.
QUEUE_STATUSES = {
    "waiting": _l("waiting"),
    "offered": _l("told of a free place"),
    "left": _l("left the queue"),
}
QUEUE_LEAVE_REASONS = {
    "placed": _l("placed"),
    "removed": _l("removed by the worker"),
    "closed": _l("client closed"),
    "archived": _l("opening archived"),
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

# Why an opening does not match a client's needs: one label per hard filter (docs/rules.md §7.2).
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

# Audit trail events (AuditEvent.action) and how /admin/audit names them.
AUDIT_ACTIONS = {
    "preferences_saved": _l("notification choices saved"),
    "login_succeeded": _l("logged in"),
    "login_failed": _l("failed login"),
    "logout": _l("logged out"),
    "session_expired": _l("session expired"),
    "password_changed": _l("password changed"),
    "password_reset": _l("password reset by the coordinator"),
    "password_set": _l("password set with a link"),
    "permission_denied": _l("request denied"),
    "csrf_failed": _l("form refused (CSRF)"),
    "user_created": _l("account created"),
    "user_deactivated": _l("account deactivated"),
    "user_reactivated": _l("account reactivated"),
    "audit_exported": _l("audit trail downloaded"),
    "sites_import": _l("site CSV imported"),
    "sites_exported": _l("site CSV downloaded"),
    "survey_exported": _l("survey downloaded"),
    "outcomes_viewed": _l("outcomes viewed"),
    "outcomes_exported": _l("outcomes downloaded"),
    "organisation_created": _l("organisation created"),
    "organisation_updated": _l("organisation changed"),
    "site_created": _l("site created"),
    "site_updated": _l("site changed"),
    "site_archived": _l("site archived"),
    "opening_created": _l("opening created"),
    "opening_updated": _l("opening changed"),
    "opening_capacity_changed": _l("places changed"),
    "opening_confirmed": _l("data confirmed"),
    "opening_archived": _l("opening archived"),
    "client_created": _l("client created"),
    "client_updated": _l("client details changed"),
    "client_viewed": _l("client viewed"),
    "client_list_viewed": _l("client list viewed"),
    "client_closed": _l("client closed"),
    "client_reopened": _l("client reopened"),
    "client_transferred": _l("client moved to another worker"),
    "clients_purged": _l("closed clients' data removed"),
    "needs_viewed": _l("needs viewed"),
    "needs_saved": _l("needs saved"),
    "matches_viewed": _l("matches viewed"),
    "placement_proposed": _l("placement proposed"),
    "placement_viewed": _l("placement viewed"),
    "placement_listed": _l("placement listed to the host"),
    "placement_accepted": _l("placement accepted"),
    "placement_declined": _l("placement declined"),
    "placement_cancelled": _l("placement cancelled"),
    "placement_ended": _l("placement ended"),
    "plan_saved": _l("plan saved"),
    "plan_viewed": _l("plan viewed"),
    "path_viewed": _l("service path viewed"),
    "attention_viewed": _l("needs attention list viewed"),
    "queue_joined": _l("client queued"),
    "queue_left": _l("client left a queue"),
    "queue_confirmed": _l("queue place confirmed"),
    "queue_offered": _l("queue: worker told of a free place"),
    "queue_listed": _l("queue listed to the host"),
    "round_created": _l("survey round created"),
    "round_opened": _l("survey round opened"),
    "round_closed": _l("survey round closed"),
    "round_reopened": _l("survey round reopened"),
    "round_reminded": _l("survey round reminder sent"),
    "round_response_saved": _l("survey round answer saved"),
    "round_response_submitted": _l("survey round answer sent"),
    "round_report_viewed": _l("survey round report viewed"),
    "round_report_exported": _l("survey round report downloaded"),
}

AUDIT_OBJECTS = {
    "user": _l("account"),
    "client": _l("client"),
    "placement": _l("placement"),
    "site": _l("site"),
    "opening": _l("opening"),
    "organisation": _l("organisation"),
    "survey": _l("survey"),
    "outcomes": _l("outcomes"),
    "survey_round": _l("survey round"),
}
