"""Long work run by a worker process, never inside a web request (docs/rules.md §16)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from placements.codes import JOB_STATUSES
from placements.models.base import Base, UTCDateTime, one_of, utcnow


class Job(Base):
    """One piece of long work (an import, opening a survey round): what to do (``kind`` and
    ``params``), for whom (``owner``), how far it has come (``done`` of ``total``) and how it
    ended (``result`` or ``error``).

    A worker claims a queued job by setting ``claimed_by`` to a token of its own; only the
    holder of the current claim may finish the job. The worker renews ``heartbeat_at`` while
    it runs; a running job whose heartbeat is too old lost its worker and is queued again or,
    after too many attempts, failed.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        one_of("status", JOB_STATUSES, "status_valid"),
        Index("ix_jobs_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Makes enqueueing idempotent: a second request for the same work finds the first job.
    key: Mapped[str | None] = mapped_column(String(100), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    status: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text)  # JSON
    error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def parameters(self) -> dict:
        return json.loads(self.params or "{}")

    @property
    def outcome(self) -> dict | None:
        return json.loads(self.result) if self.result else None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status}>"
