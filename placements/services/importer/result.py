"""What an import found or did: the problems, the counts and what changes, also as JSON
(a job keeps its result in the database for the page that shows it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext

from placements.services.audit import FIELD_LABELS
from placements.services.site_csv import Problem


@dataclass(frozen=True)
class SiteChange:
    """A site the file creates or changes, for the preview: its name and municipality, and
    what changes (the site columns that differ, whether it is restored from the archive, and
    how many of its openings are new, changed or archived)."""

    site_ref: str
    name: str
    municipality_code: str = ""
    fields: tuple[str, ...] = ()
    restored: bool = False
    openings_created: int = 0
    openings_updated: int = 0
    openings_archived: int = 0

    def describe(self, *, new: bool) -> list[str]:
        """What the import does to the site, in words, for the preview."""
        if new:
            return [ngettext("%(num)s opening", "%(num)s openings", self.openings_created)]
        parts = []
        if self.restored:
            parts.append(_("restored from the archive"))
        if self.fields:
            parts.append(_("changes: %(fields)s", fields=", ".join(str(FIELD_LABELS.get(f, f)) for f in self.fields)))
        if self.openings_created:
            parts.append(ngettext("%(num)s new opening", "%(num)s new openings", self.openings_created))
        if self.openings_updated:
            parts.append(ngettext("%(num)s opening changes", "%(num)s openings change", self.openings_updated))
        if self.openings_archived:
            parts.append(
                ngettext("%(num)s opening is archived", "%(num)s openings are archived", self.openings_archived)
            )
        return parts

    def to_json(self) -> list:
        return [
            self.site_ref,
            self.name,
            self.municipality_code,
            list(self.fields),
            self.restored,
            self.openings_created,
            self.openings_updated,
            self.openings_archived,
        ]

    @classmethod
    def from_json(cls, item: list) -> SiteChange:
        """Also reads results stored before the municipality and changes were kept."""
        ref, name, *rest = item
        municipality, fields, restored, created, updated, archived = [*rest, "", [], False, 0, 0, 0][:6]
        return cls(ref, name, municipality, tuple(fields), bool(restored), int(created), int(updated), int(archived))


# A result kept as JSON lists at most this many problems, sites and changes of each kind;
# the counts are always complete.
STORED_LIST_LIMIT = 1000


@dataclass
class ImportResult:
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    sites_created: int = 0
    sites_updated: int = 0
    sites_unchanged: int = 0
    openings_created: int = 0
    openings_updated: int = 0
    openings_archived: int = 0
    dry_run: bool = False
    # (site_ref, opening title, "field: old → new" …) for each changed opening, for the preview
    changes: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    # the sites the file creates and those it changes, with what changes
    new_sites: list[SiteChange] = field(default_factory=list)
    changed_sites: list[SiteChange] = field(default_factory=list)
    # how many problems and changes there were when a stored result lists only the first ones
    problem_count: int | None = None
    change_count: int | None = None
    # addresses placed at a fallback because the online lookups of this import ran out
    geocoding_skipped: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problems_total(self) -> int:
        return self.problem_count if self.problem_count is not None else len(self.problems)

    @property
    def changes_total(self) -> int:
        return self.change_count if self.change_count is not None else len(self.changes)

    def labelled_changes(self, limit: int = 50) -> list[tuple[str, str, list[str]]]:
        """The first changed openings with each change's field named in the reader's language:
        "Paikkoja yhteensä: 5 → 9" for the stored "places_total: 5 → 9"."""
        shown = []
        for ref, title, fields in self.changes[:limit]:
            lines = []
            for line in fields:
                name, colon, change = line.partition(": ")
                lines.append(f"{FIELD_LABELS[name]}: {change}" if colon and name in FIELD_LABELS else line)
            shown.append((ref, title, lines))
        return shown

    COUNTS = (
        "rows",
        "sites_created",
        "sites_updated",
        "sites_unchanged",
        "openings_created",
        "openings_updated",
        "openings_archived",
        "geocoding_skipped",
    )

    def to_json(self) -> dict:
        limit = STORED_LIST_LIMIT
        data: dict = {name: getattr(self, name) for name in self.COUNTS}
        data["dry_run"] = self.dry_run
        data["problem_count"] = self.problems_total
        data["problems"] = [[p.row, p.column, p.message] for p in self.problems[:limit]]
        data["changes"] = [[ref, title, list(fields)] for ref, title, fields in self.changes[:limit]]
        data["change_count"] = self.changes_total
        data["new_sites"] = [item.to_json() for item in self.new_sites[:limit]]
        data["changed_sites"] = [item.to_json() for item in self.changed_sites[:limit]]
        return data

    @classmethod
    def from_json(cls, data: dict) -> ImportResult:
        result = cls(**{name: int(data.get(name, 0)) for name in cls.COUNTS})
        result.dry_run = bool(data.get("dry_run"))
        result.problems = [Problem(row, column, message) for row, column, message in data.get("problems", [])]
        result.problem_count = int(data.get("problem_count", len(result.problems)))
        result.changes = [(ref, title, tuple(fields)) for ref, title, fields in data.get("changes", [])]
        result.change_count = int(data.get("change_count", len(result.changes)))
        result.new_sites = [SiteChange.from_json(item) for item in data.get("new_sites", [])]
        result.changed_sites = [SiteChange.from_json(item) for item in data.get("changed_sites", [])]
        return result
