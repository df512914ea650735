"""The data model, one module per aggregate; the constraints are listed in docs/rules.md §14."""

from placements.models.base import Base
from placements.models.client import Client, Needs, client_shares
from placements.models.events import AuditEvent, CapacityEvent
from placements.models.geo import Municipality, PostalCode
from placements.models.job import Job
from placements.models.notification import Notification, NotificationPreference, OutboxMessage
from placements.models.organisation import Organisation
from placements.models.path import PlanEntry, QueueEntry
from placements.models.placement import Placement
from placements.models.rate_limit import RateLimitCounter
from placements.models.round import ResponseLine, RoundResponse, RoundSnapshotGroup, RoundSnapshotRow, SurveyRound
from placements.models.site import Opening, Site
from placements.models.support import GeocodeCache, ImportUpload
from placements.models.user import ClientTransfer, PasswordLink, User

__all__ = [
    "AuditEvent",
    "Base",
    "CapacityEvent",
    "Client",
    "ClientTransfer",
    "GeocodeCache",
    "ImportUpload",
    "Job",
    "Municipality",
    "Needs",
    "Notification",
    "NotificationPreference",
    "Opening",
    "Organisation",
    "OutboxMessage",
    "PasswordLink",
    "Placement",
    "PlanEntry",
    "PostalCode",
    "QueueEntry",
    "RateLimitCounter",
    "ResponseLine",
    "RoundResponse",
    "RoundSnapshotGroup",
    "RoundSnapshotRow",
    "Site",
    "SurveyRound",
    "User",
    "client_shares",
]
