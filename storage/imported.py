"""Captures another archive made (a WARC file, a Wayback server), placed in an article's history
by their capture time, whatever order they arrive in.

A crawl only ever appends: its capture is the newest. An imported capture may be older than
what is stored, so it is placed where its time puts it: it extends the version it agrees with,
or it becomes a new version between the ones before and after it. Versions are renumbered so
that ``seq`` is always capture-time order; the export cursor is unaffected (it follows rows,
not numbers: docs/export.md, "Imported history"). Each imported record is stored once: its
``origin_key`` is unique, so importing the same file twice, or resuming a backfill, adds
nothing. Imports never touch what the scheduler relies on (validators, the last payload
digest, the next check): those describe palimpsest's own fetches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from palimpsest.storage import repository as repo
from palimpsest.storage import revision_rows
from palimpsest.storage.diffing import classify_changes
from palimpsest.storage.ingest import (
    UNDECIDED_STATES,
    ExtractedVersion,
    FetchRecord,
    IngestResult,
    StoryLink,
    _fields,
    _is_teaser_of,
    _new_version,
    capture_row,
)
from palimpsest.storage.models import Article, Capture, Version


@dataclass(frozen=True)
class Origin:
    """Where an imported capture came from."""

    archive: str  # the archive's name: a WARC file's name, a Wayback server's address
    url: str  # the capture's address there (a replay URL, or FILE#offset)
    key: str  # unique per captured record: see origin_key


def origin_key(target_uri: str, captured_at: datetime) -> str:
    """The identity of a captured record: its URL and its capture time to the second (how the
    Wayback Machine addresses captures), hashed. The same record imported from a WARC file
    and fetched from a Wayback server that indexed that file has the same key."""
    stamp = captured_at.strftime("%Y%m%d%H%M%S")
    return hashlib.sha256(f"{target_uri}\n{stamp}".encode()).hexdigest()


def known_origin_keys(session: Session, keys: list[str], chunk: int = 500) -> set[str]:
    """Which of these keys are stored already (a re-import, a resumed backfill)."""
    found: set[str] = set()
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        found.update(session.scalars(select(Capture.origin_key).where(Capture.origin_key.in_(part))))
    return found


def ingest_archived_capture(
    session: Session,
    fetch: FetchRecord,
    candidate: ExtractedVersion | None,
    origin: Origin,
    *,
    story: StoryLink | None = None,
    outlet_ids: dict[str, int] | None = None,
) -> IngestResult | None:
    """Store a capture another archive made, at its capture time (``fetch.fetched_at``).
    None when this record is stored already. Does not commit."""
    if known_origin_keys(session, [origin.key]):
        return None
    at = fetch.fetched_at
    article = repo.find_article_by_urls(session, [u for u in (fetch.canonical_url, fetch.requested_url) if u])
    if article is None:
        outlet = repo.get_or_create_outlet(session, fetch.outlet_domain, fetch.outlet_name, at, outlet_ids)
        article, created = repo.get_or_create_article(session, fetch.canonical_url, outlet, at)
        if created:
            article.next_check_at = None  # imported history: followed live only once crawled
    elif fetch.outlet_name:
        repo.get_or_create_outlet(session, fetch.outlet_domain, fetch.outlet_name, at, outlet_ids)
    article.first_seen_at = min(article.first_seen_at, at)
    repo.record_url_variants(session, article, fetch.url_variants, at)

    version: Version | None = None
    error = fetch.error
    if fetch.outcome in ("error", "refused"):
        outcome = fetch.outcome
    elif candidate is None:
        outcome, error = "error", error or "nothing was extracted"
    elif candidate.page_type != "article":
        outcome, error = "not_article", candidate.page_reason or "index page"
        if article.state in UNDECIDED_STATES or not repo.versions_of(session, article.id):
            article.state = "index"
    else:
        if article.state in UNDECIDED_STATES:
            article.state = "active"  # asked for by name: its history is archived
        outcome, version = place_in_history(session, article, candidate, at)
        if candidate.published_at and article.published_at is None:
            article.published_at = candidate.published_at
        if outcome == "new_version" and (article.last_changed_at is None or at > article.last_changed_at):
            article.last_changed_at = at

    capture = capture_row(
        article, fetch, outcome, error, version, origin=origin.archive, origin_url=origin.url, origin_key=origin.key
    )
    session.add(capture)
    if story is not None and outcome != "not_article":
        story_row = repo.get_or_create_story(session, story.slug, None, at)
        repo.add_to_story(session, story_row, article, story.how, story.score, at)
    session.flush()
    current = repo.current_version(session, article.id)
    return IngestResult(
        capture_id=capture.id,
        article_id=article.id,
        article_url=article.canonical_url,
        outcome=outcome,
        version_seq=version.seq if version is not None else (current.seq if current else None),
        change_kinds=tuple(version.change_kinds) if outcome == "new_version" and version else (),
        error=error,
    )


def place_in_history(
    session: Session, article: Article, candidate: ExtractedVersion, at: datetime
) -> tuple[str, Version]:
    """(outcome, version) for a capture at ``at``: the version it saw, extended to cover it,
    or a new version inserted at its place in time (later versions renumbered, and the next
    one's change kinds taken against it)."""
    if session.get_bind().dialect.name == "postgresql":
        # Two imports of one article renumber its versions one after the other (SQLite has one
        # writer at a time already).
        session.execute(select(Article.id).where(Article.id == article.id).with_for_update())
    versions = list(repo.versions_of(session, article.id))
    before = [v for v in versions if v.first_seen_at <= at]
    prev = before[-1] if before else None
    nxt = versions[len(before)] if len(before) < len(versions) else None
    if prev is not None and prev.content_hash == candidate.content_hash:
        prev.last_seen_at = max(prev.last_seen_at, at)
        return "unchanged", prev
    if prev is not None and _is_teaser_of(candidate, prev):
        return "paywalled", prev  # a paywall is not an edit, in an archive's copy either
    splits = prev is not None and prev.last_seen_at > at  # prev was seen again after this capture
    if nxt is not None and nxt.content_hash == candidate.content_hash and not splits:
        nxt.first_seen_at = at  # an earlier sighting of the next version
        return "unchanged", nxt
    later = versions[len(before) :]
    _renumber(session, article, later, 2 if splits else 1)
    shown, article.current_seq = article.current_seq, None  # a revert's pin, renumbered above
    new = _new_version(session, article, prev, candidate, at)
    if splits:
        assert prev is not None
        again = _split_after(session, article, prev, new, at)
        if nxt is not None:
            revision_rows.replace_sentence_actions(session, again, nxt)
    elif nxt is not None:
        nxt.change_kinds, nxt.similarity = _compared(new, nxt)
        revision_rows.replace_sentence_actions(session, new, nxt)
    article.current_seq = shown
    return "new_version", new


def _compared(old: Version, new: Version) -> tuple[list[str], float | None]:
    kinds, similarity = classify_changes(_fields(old), _fields(new))
    return list(kinds), similarity


def _renumber(session: Session, article: Article, versions: list[Version], by: int) -> None:
    """Move these versions ``by`` places up, through negative numbers: (article, seq) stays
    unique at every statement, on PostgreSQL as on SQLite. The seqs that name them elsewhere
    (sentence actions, a revert's pin) move with them."""
    if not versions:
        return
    first = versions[0].seq
    revision_rows.shift_sentence_action_seqs(session, article.id, first, by)
    if article.current_seq is not None and article.current_seq >= first:
        article.current_seq += by
    for version in versions:
        version.seq = -(version.seq + by)
    session.flush()
    for version in versions:
        version.seq = -version.seq
    session.flush()


def _split_after(session: Session, article: Article, prev: Version, new: Version, at: datetime) -> Version:
    """``prev`` was seen before and after ``at``, and ``at`` saw other text: the captures after
    ``at`` saw ``prev``'s text again, a version of its own after ``new``."""
    captures = session.scalars(select(Capture).where(Capture.version_id == prev.id)).all()
    earlier = [c.fetched_at for c in captures if c.fetched_at <= at]
    after = [c for c in captures if c.fetched_at > at]
    again = _new_version(
        session, article, new, _as_candidate(prev), min((c.fetched_at for c in after), default=prev.last_seen_at)
    )
    again.last_seen_at = prev.last_seen_at
    prev.last_seen_at = max(earlier, default=prev.first_seen_at)
    for capture in after:
        capture.version_id = again.id
    return again


def _as_candidate(version: Version) -> ExtractedVersion:
    """A stored version's content, as a candidate for a version of the same text."""
    return ExtractedVersion(
        headline=version.headline,
        dek=version.dek,
        byline=version.byline,
        text=version.text,
        content_hash=version.content_hash,
        word_count=version.word_count,
        extractor=version.extractor,
        captions=version.captions,
        published_at=version.published_at,
        published_raw=version.published_raw,
        published_source=version.published_source,
        modified_at=version.modified_at,
        modified_raw=version.modified_raw,
        modified_source=version.modified_source,
        language=version.language,
        access=version.access,
        complete=version.complete,
        evidence=list(version.paywall_evidence or []),
        links=tuple(version.links or ()),
    )
