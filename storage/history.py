"""An article's history as plain data, for the command line, the Python API and the web view."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from palimpsest.storage import repository as repo
from palimpsest.storage.diffing import VersionDiff, VersionFields, diff_to_json, diff_versions
from palimpsest.storage.models import ABTest, Article, Capture, Outlet, Version
from palimpsest.storage.revisions import ab_title


class ArticleNotFound(LookupError):
    """No archived article is known under that URL."""


def find_article(session: Session, urls: list[str]) -> Article:
    article = repo.find_article_by_urls(session, urls)
    if article is None:
        raise ArticleNotFound(urls[0] if urls else "")
    return article


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def version_summary(version: Version) -> dict[str, Any]:
    return {
        "seq": version.seq,
        "first_seen_at": _iso(version.first_seen_at),
        "last_seen_at": _iso(version.last_seen_at),
        "headline": version.headline,
        "dek": version.dek,
        "byline": version.byline,
        "published_at": _iso(version.published_at),
        "published_raw": version.published_raw,
        "published_source": version.published_source,
        "modified_at": _iso(version.modified_at),
        "language": version.language,
        "word_count": version.word_count,
        "access": version.access,
        "complete": version.complete,
        "change_kinds": list(version.change_kinds or []),
        "similarity": version.similarity,
        "content_hash": version.content_hash,
        "extractor": version.extractor,
    }


def capture_summary(capture: Capture, seq_of: dict[int, int]) -> dict[str, Any]:
    """One fetch of the article: its id (for ``palimpsest capture ID``), when, what came back."""
    return {
        "capture_id": capture.id,
        "fetched_at": _iso(capture.fetched_at),
        "outcome": capture.outcome,
        "http_status": capture.http_status,
        "version": seq_of.get(capture.version_id) if capture.version_id else None,
        "error": capture.error,
        "origin": capture.origin,
        "reason": capture.reason,  # why a revert or a suspect capture (storage.revisions)
    }


@dataclass(frozen=True)
class ArticleHistory:
    article: Article
    outlet: Outlet
    versions: list[Version]
    capture_count: int
    last_outcome: str | None
    last_error: str | None
    captures: list[Capture] = field(default_factory=list)  # oldest first
    ab_test: ABTest | None = None

    def origins(self) -> dict[int, str | None]:
        """Per version id: the archive its first sighting came from (``palimpsest import`` or
        ``backfill``), or None when palimpsest fetched it itself."""
        found: dict[int, str | None] = {}
        for capture in self.captures:  # oldest first
            if capture.version_id is not None and capture.version_id not in found:
                found[capture.version_id] = capture.origin
        return found

    def changed_between(self, version: Version) -> tuple[datetime, datetime] | None:
        """When the edit that made ``version`` happened, as far as the captures tell: after the
        previous version was last seen, before this one was first seen."""
        earlier = [v for v in self.versions if v.seq < version.seq]
        return (earlier[-1].last_seen_at, version.first_seen_at) if earlier else None

    def capture_summaries(self) -> list[dict[str, Any]]:
        seq_of = {version.id: version.seq for version in self.versions}
        return [capture_summary(capture, seq_of) for capture in self.captures]

    def _version_dict(self, version: Version, origins: dict[int, str | None]) -> dict[str, Any]:
        between = self.changed_between(version)
        return version_summary(version) | {
            "origin": origins.get(version.id),
            "changed_between": [_iso(between[0]), _iso(between[1])] if between else None,
        }

    def as_dict(self) -> dict[str, Any]:
        origins = self.origins()
        return {
            "url": self.article.canonical_url,
            "outlet": {"domain": self.outlet.domain, "name": self.outlet.name},
            "state": self.article.state,
            "first_seen_at": _iso(self.article.first_seen_at),
            "last_checked_at": _iso(self.article.last_checked_at),
            "published_at": _iso(self.article.published_at),
            "captures": self.capture_count,
            "last_outcome": self.last_outcome,
            "last_error": self.last_error,
            "current_version": self.current_seq,
            "ab_test": ab_test_summary(self.ab_test),
            "versions": [self._version_dict(v, origins) for v in self.versions],
            "fetches": self.capture_summaries(),
        }

    @property
    def current_seq(self) -> int | None:
        """The version shown now: the latest, or an earlier one a revert made current again."""
        if self.article.current_seq is not None:
            return self.article.current_seq
        return self.versions[-1].seq if self.versions else None


def ab_test_summary(test: ABTest | None) -> dict[str, Any] | None:
    if test is None:
        return None
    return {
        "title": ab_title(variant["headline"] for variant in test.variants),
        "variants": [{"seq": v["seq"], "headline": v["headline"]} for v in test.variants],
        "reverts": test.reverts,
        "detected_at": _iso(test.detected_at),
        "first_flip_at": _iso(test.first_flip_at),
        "last_flip_at": _iso(test.last_flip_at),
    }


def history_of(session: Session, article: Article) -> ArticleHistory:
    outlet = session.get(Outlet, article.outlet_id)
    captures = list(repo.captures_of(session, article.id))
    last = captures[-1] if captures else None
    return ArticleHistory(
        article=article,
        outlet=outlet,
        versions=list(repo.versions_of(session, article.id)),
        capture_count=len(captures),
        last_outcome=last.outcome if last else None,
        last_error=last.error if last else None,
        captures=captures,
        ab_test=session.scalar(select(ABTest).where(ABTest.article_id == article.id)),
    )


def version_fields(version: Version) -> VersionFields:
    return VersionFields(
        headline=version.headline,
        dek=version.dek,
        byline=version.byline,
        text=version.text,
        access=version.access,
        complete=version.complete,
    )


class VersionNotFound(LookupError):
    """The article has no version with that number, or too few versions to compare."""


@dataclass(frozen=True)
class Comparison:
    article: Article
    old: Version
    new: Version
    diff: VersionDiff


def compare_versions(
    session: Session, article: Article, from_seq: int | None = None, to_seq: int | None = None
) -> Comparison:
    """The diff between two versions; by default the last two (``to`` defaults to the latest,
    ``from`` to the version before ``to``)."""
    versions = {v.seq: v for v in repo.versions_of(session, article.id)}
    if len(versions) < 2 and (from_seq is None or to_seq is None):
        raise VersionNotFound(f"only {len(versions)} version(s) archived: nothing to compare")
    to_seq = to_seq if to_seq is not None else max(versions)
    if from_seq is None and to_seq == 1:
        raise VersionNotFound("version 1 is the first: nothing before it to compare (give --from)")
    from_seq = from_seq if from_seq is not None else to_seq - 1
    for seq in (to_seq, from_seq):  # the one asked for first: `--to 5` of 3 is "no version 5"
        if seq not in versions:
            raise VersionNotFound(f"no version {seq} (versions 1..{max(versions) if versions else 0})")
    old, new = versions[from_seq], versions[to_seq]
    return Comparison(article, old, new, diff_versions(version_fields(old), version_fields(new)))


def diff_payload(comparison: Comparison) -> dict[str, Any]:
    """The JSON diff (schema palimpsest.diff/1) with which article and versions it compares."""
    old, new = comparison.old, comparison.new
    return {
        "url": comparison.article.canonical_url,
        "from": {"seq": old.seq, "first_seen_at": old.first_seen_at.isoformat()},
        "to": {"seq": new.seq, "first_seen_at": new.first_seen_at.isoformat()},
        **diff_to_json(comparison.diff),
    }
