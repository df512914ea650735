"""Who may do what (docs/rules.md §2): one named check per rule, and ``require``.

Checks are pure functions of the acting user and the object. Services call ``require``
with them before they change or reveal protected data, so a page, an e-mail link, a job
or a command cannot skip a rule; views also use them for a fast answer and templates to
hide what a user cannot do. No Flask here: the web layer maps ``PermissionDenied`` to
403/404 and records the denial (``placements/web/access.py``).
"""

from __future__ import annotations

from placements.errors import PermissionDenied

HOST = "host"
SOCIAL_WORKER = "social_worker"
COORDINATOR = "coordinator"


class _System:
    """The operator at the command line, or a scheduled job acting for the registry.

    May manage the registry and accounts, never read a client's needs.
    """

    id = None
    email = None
    name = "system"
    role = "system"
    organisation_id = None
    is_authenticated = True
    active = True

    def __repr__(self) -> str:
        return "<System>"


SYSTEM = _System()


def require(
    allowed: bool, *, status: int = 403, object_type: str | None = None, object_id=None, client_code: str | None = None
) -> None:
    """Go on when ``allowed``; otherwise raise ``PermissionDenied`` (404 hides existence)."""
    if not allowed:
        raise PermissionDenied(status=status, object_type=object_type, object_id=object_id, client_code=client_code)


def has_role(user, *roles: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in roles


def is_system(user) -> bool:
    return user is SYSTEM


def can_browse_catalogue(user, public_catalogue: bool) -> bool:
    return public_catalogue or bool(getattr(user, "is_authenticated", False))


def can_manage_registry(user) -> bool:
    """Create organisations and sites, import CSV, archive, see the stale overview."""
    return has_role(user, COORDINATOR) or is_system(user)


def can_edit_site(user, site) -> bool:
    if can_manage_registry(user):
        return True
    return has_role(user, HOST) and user.organisation_id is not None and user.organisation_id == site.organisation_id


def can_edit_opening(user, opening) -> bool:
    return can_edit_site(user, opening.site)


def can_manage_users(user) -> bool:
    return has_role(user, COORDINATOR) or is_system(user)


def can_give_password(user) -> bool:
    """Only the operator at the command line creates an account with a known password (the
    first coordinator, demo accounts). A coordinator never sets or sees another person's
    password: accounts get a set-password link instead (docs/rules.md §11.1)."""
    return is_system(user)


def can_view_audit(user) -> bool:
    return has_role(user, COORDINATOR)


def can_run_survey(user) -> bool:
    return has_role(user, COORDINATOR) or is_system(user)


def can_manage_rounds(user) -> bool:
    """Create, open, follow, remind, close and reopen survey rounds; read their reports
    (docs/rules.md §17.1)."""
    return has_role(user, COORDINATOR) or is_system(user)


def can_answer_round(user, response) -> bool:
    """A host answers a survey round for their own organisation only (docs/rules.md §17.2)."""
    return (
        has_role(user, HOST) and user.organisation_id is not None and user.organisation_id == response.organisation_id
    )


def can_create_clients(user) -> bool:
    return has_role(user, SOCIAL_WORKER)


def can_read_client(user, client) -> bool:
    """Only the owning social worker or one the client is shared with; never other roles."""
    if not has_role(user, SOCIAL_WORKER):
        return False
    return client.owner_id == user.id or any(worker.id == user.id for worker in client.shared_with)


def can_share_client(user, client) -> bool:
    """Only the owner chooses whom the client is shared with."""
    return has_role(user, SOCIAL_WORKER) and client.owner_id == user.id


def can_edit_needs_note(user, client) -> bool:
    """The free-text note of the needs belongs to the owner alone."""
    return can_share_client(user, client)


def can_transfer_clients(user) -> bool:
    """The coordinator moves clients between workers without reading them."""
    return has_role(user, COORDINATOR)


def can_purge_clients(user) -> bool:
    """The retention purge runs from the command line or a scheduled job only."""
    return is_system(user)


def can_propose_placement(user, client) -> bool:
    return can_read_client(user, client)


def can_decide_placement(user, placement) -> bool:
    """Accept or decline a proposal: the host of the opening's organisation."""
    return has_role(user, HOST) and user.organisation_id == placement.opening.site.organisation_id


def can_end_placement(user, placement) -> bool:
    return can_read_client(user, placement.client) or can_decide_placement(user, placement)


def can_view_placement(user, placement) -> bool:
    return can_end_placement(user, placement)


def can_see_host_placements(user) -> bool:
    """A host sees the placements at their own organisation's openings (codes, never needs)."""
    return has_role(user, HOST) and user.organisation_id is not None


def can_view_job(user, job) -> bool:
    """A job's page (progress and result): the user who started it, or a coordinator."""
    if has_role(user, COORDINATOR):
        return True
    return has_role(user, HOST, SOCIAL_WORKER) and job.owner_id is not None and job.owner_id == user.id


def can_view_region_outcomes(user) -> bool:
    """Outcomes of every client in the region, as counts (docs/rules.md §19.1)."""
    return has_role(user, COORDINATOR)


def can_view_own_outcomes(user) -> bool:
    """Outcomes of the worker's own and shared clients, as counts (docs/rules.md §19.1)."""
    return has_role(user, SOCIAL_WORKER)
