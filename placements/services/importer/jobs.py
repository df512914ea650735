"""The site import as jobs: checking an uploaded file (the preview) and applying it
(docs/rules.md §10.8, §10.13). Both run in the worker as the coordinator who uploaded the
file; the file waits in ``ImportUpload`` between the two."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from placements import clock, permissions
from placements.models import ImportUpload, Job
from placements.services import jobs
from placements.services.geocoding import Geocoder
from placements.services.importer import import_sites

CHECK = "site_import_check"
APPLY = "site_import_apply"
UPLOAD_LIFETIME = timedelta(hours=24)
# Addresses looked up online during one web import; the rest use fallbacks at once and
# can be looked up later with `flask sites geocode`.
ONLINE_LOOKUPS_PER_IMPORT = 10


def start_check(session: Session, user, *, filename: str, content: bytes, locale: str) -> Job:
    """Keep an uploaded file and queue its check (the preview). The file waits for the
    confirmation at most UPLOAD_LIFETIME; older uploads are removed here (§12.6)."""
    permissions.require(permissions.can_manage_registry(user), object_type="site")
    session.execute(delete(ImportUpload).where(ImportUpload.created_at < clock.now() - UPLOAD_LIFETIME))
    token = secrets.token_urlsafe(24)
    upload = ImportUpload(
        token=token, user_id=user.id, filename=filename[:255] or "sites.csv", size=len(content), content=content
    )
    session.add(upload)
    return jobs.enqueue(session, CHECK, owner=user, params={"token": token, "locale": locale})


def start_apply(session: Session, user, *, token: str, locale: str) -> Job | None:
    """Queue the import of a checked upload; None when the upload is gone (expired, or
    someone else's). Confirming the same upload again returns the same job."""
    permissions.require(permissions.can_manage_registry(user), object_type="site")
    existing = session.scalar(select(Job).where(Job.key == apply_key(token), Job.owner_id == user.id))
    if existing is not None:
        return existing
    if pending_upload(session, user, token) is None:
        return None
    return jobs.enqueue(session, APPLY, owner=user, params={"token": token, "locale": locale}, key=apply_key(token))


def apply_job(session: Session, user, token: str) -> Job | None:
    """The job that imports (or imported) the user's upload ``token``, if confirmed."""
    return session.scalar(select(Job).where(Job.key == apply_key(token), Job.owner_id == getattr(user, "id", None)))


def pending_upload(session: Session, user, token: str) -> ImportUpload | None:
    """The user's own upload with ``token``, unless it has expired or been used."""
    upload = session.scalar(
        select(ImportUpload).where(ImportUpload.token == token, ImportUpload.user_id == getattr(user, "id", None))
    )
    if upload is None or upload.created_at < clock.now() - UPLOAD_LIFETIME:
        return None
    return upload


def apply_key(token: str) -> str:
    """One apply job per upload, however many times the confirmation is sent."""
    return f"{APPLY}:{token}"


def _upload(context: jobs.JobContext) -> ImportUpload:
    upload = pending_upload(context.session, context.user, context.params.get("token", ""))
    if upload is None:
        raise jobs.JobFailed(_("The checked file is no longer available. Upload it again."))
    return upload


@jobs.handler(CHECK)
def check(context: jobs.JobContext) -> dict:
    """Check the file and show what importing it would change; nothing is saved."""
    upload = _upload(context)
    result = import_sites(context.session, upload.content, context.user, dry_run=True, progress=context.progress)
    context.checkpoint("checked")
    data = result.to_json() | {"filename": upload.filename}
    if result.ok:
        data["token"] = upload.token
    else:
        context.session.delete(upload)  # a file with problems cannot be confirmed
    return data


@jobs.handler(APPLY)
def apply(context: jobs.JobContext) -> dict:
    """Import the checked file; it is checked again, as the registry may have changed."""
    upload = _upload(context)
    geocoder = Geocoder.from_config(context.session, context.config, max_lookups=ONLINE_LOOKUPS_PER_IMPORT)
    result = import_sites(context.session, upload.content, context.user, geocoder=geocoder, progress=context.progress)
    context.checkpoint("applied")
    if result.ok:
        context.session.delete(upload)
    return result.to_json() | {"filename": upload.filename}
