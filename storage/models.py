"""The archive's tables (SQLAlchemy 2.x, typed).

Every timestamp is timezone-aware UTC (`UTCDateTime`), on SQLite as on PostgreSQL. Constraint
names come from the metadata's naming convention, so Alembic migrations name them the same way
on every backend. Relationships are ``lazy="raise"``: a query never hides in an attribute.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime that is always aware UTC in Python, whatever the backend stores.

    SQLite keeps no offset: values are written as naive UTC and come back tagged UTC.
    Naive values are refused on the way in, so local time never sneaks into the archive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime refused (use aware UTC): {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON on SQLite, JSONB (indexable, compact) on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


class Outlet(Base):
    """A publisher, identified by its registered domain (nytimes.com, thehill.com)."""

    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    # False once its ETag/Last-Modified said "not modified" about changed content:
    # from then on its pages are always fetched in full.
    validators_trusted: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime]


class Story(Base):
    """A named set of articles across outlets: one news event's coverage."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    match_terms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    similarity_threshold: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]


class StorySource(Base):
    """Where a story finds candidates (a seed URL, a feed, a sitemap), polled on its own clock."""

    __tablename__ = "story_sources"
    __table_args__ = (UniqueConstraint("story_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # seed | feed | sitemap
    url: Mapped[str] = mapped_column(Text)
    poll_interval_seconds: Mapped[int] = mapped_column(Integer, default=900)
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    last_polled_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Who is doing the due check (storage.claims): a worker's token and its lease deadline.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]


class Article(Base):
    """One article: one canonical URL and its re-check state.

    Its current version is the one with the highest ``seq`` (unique per article, indexed),
    unless a revert made an earlier one current again (``current_seq``).
    """

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    first_seen_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    # active (re-checked on schedule) | candidate (fetched to judge it, not followed) | rejected
    # (turned down by the stories that judged it) | index (not an article) | retired | gone
    state: Mapped[str] = mapped_column(String(20), default="active")
    # Scheduling: when to look again, and what the last looks found.
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    check_interval_seconds: Mapped[int | None]
    last_checked_at: Mapped[datetime | None]
    last_changed_at: Mapped[datetime | None]
    unchanged_streak: Mapped[int] = mapped_column(Integer, default=0)
    error_streak: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The newest feed <updated> / sitemap <lastmod> acted upon (one early re-check per hint).
    last_hint_at: Mapped[datetime | None]
    # What the next fetch compares against: payload digest and HTTP validators.
    last_payload_digest: Mapped[str | None] = mapped_column(String(80))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # Wire copies and syndication: the article this one reproduces, when declared.
    based_on_url: Mapped[str | None] = mapped_column(Text)
    # Who is doing the due check (storage.claims): a worker's token and its lease deadline.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
    # The version the article shows again after a revert (storage.revisions); NULL: the latest.
    current_seq: Mapped[int | None]

    outlet: Mapped[Outlet] = relationship(lazy="raise")


class ArticleURL(Base):
    """Every URL seen for an article (requested, redirected, canonical, AMP, with tracking)."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # requested | final | canonical | amp | og
    first_seen_at: Mapped[datetime]


class StoryArticle(Base):
    """Membership of an article in a story, and how it got there."""

    __tablename__ = "story_articles"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True)
    how: Mapped[str] = mapped_column(String(20))  # seed | feed | sitemap | link | similar
    score: Mapped[float | None] = mapped_column(Float)
    joined_at: Mapped[datetime]


class StoryCandidate(Base):
    """A URL a story's sources pointed at, and what was decided about it (and why).

    Every candidate is fetched at most once per story; the decision (joined / rejected) is
    kept, so the next poll of the same feed costs nothing and a user can see why an article
    is, or is not, in the story.
    """

    __tablename__ = "story_candidates"
    __table_args__ = (UniqueConstraint("story_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)  # normalised
    how: Mapped[str] = mapped_column(String(20))  # feed | sitemap | link
    source_id: Mapped[int | None] = mapped_column(ForeignKey("story_sources.id", ondelete="SET NULL"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    discovered_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decision: Mapped[str] = mapped_column(
        String(20), default="pending", index=True
    )  # pending | joined | rejected | failed
    score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Who is doing the due check (storage.claims): a worker's token and its lease deadline.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]


class Capture(Base):
    """One fetch, whatever happened: status, timing, validators, payload digest, WARC location."""

    __tablename__ = "captures"
    __table_args__ = (Index("ix_captures_article_id_fetched_at", "article_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    requested_url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    duration_ms: Mapped[int | None]
    http_status: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(255))
    content_length: Mapped[int | None] = mapped_column(BigInteger)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    payload_digest: Mapped[str | None] = mapped_column(String(80))
    warc_file: Mapped[str | None] = mapped_column(Text)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    # new_version | unchanged | not_modified | paywalled | gone | error | refused
    # | candidate (fetched for a story, waiting to be judged) | rejected (a story turned it down)
    # | not_article (an index page: front, section, tag, listing...)
    # | revert (the text of an earlier version again: ``version_id`` is that version)
    # | suspect (looks like broken extraction: no version until a second check confirms it)
    outcome: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id", ondelete="SET NULL"), index=True)
    # Captures another archive made (a WARC file, a Wayback server), not a fetch of ours: the
    # archive's name, the capture's address there, and the key that makes a re-import a no-op
    # (storage.imported). NULL for palimpsest's own fetches.
    origin: Mapped[str | None] = mapped_column(String(255))
    origin_url: Mapped[str | None] = mapped_column(Text)
    origin_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Why a revert, suspect or confirmed version was decided so (storage.revisions).
    reason: Mapped[str | None] = mapped_column(Text)
    # A suspect capture's extraction hash (NULL otherwise: a version's own hash says it): the
    # suspect text is confirmed when the next check sees it again.
    content_hash: Mapped[str | None] = mapped_column(String(64))


class Version(Base):
    """One distinct state of an article's text, as extracted and normalised.

    A new row exists only when the hash of (headline, dek, byline, body) differs from the
    article's current version; ``first_seen_at``/``last_seen_at`` span the captures that saw it.
    """

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("article_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    seq: Mapped[int]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    headline: Mapped[str | None] = mapped_column(Text)
    dek: Mapped[str | None] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    published_raw: Mapped[str | None] = mapped_column(Text)
    published_source: Mapped[str | None] = mapped_column(String(40))
    modified_at: Mapped[datetime | None]
    modified_raw: Mapped[str | None] = mapped_column(Text)
    modified_source: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    captions: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    word_count: Mapped[int]
    access: Mapped[str] = mapped_column(String(20), default="unknown")
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    paywall_evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    extractor: Mapped[str] = mapped_column(String(100))
    change_kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    similarity: Mapped[float | None] = mapped_column(Float)
    # PostgreSQL only: the inserting top-level transaction's id (xid8), for snapshot export
    # cursors (storage.export); NULL on SQLite and for rows written before revision 0003.
    txid: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Links the article makes in its own paragraphs: a story it joins follows them one hop.
    links: Mapped[list[str] | None] = mapped_column(JSONType)


class ABTest(Base):
    """An article going back and forth between versions (A/B-tested headlines): one row per
    article, updated as it keeps flipping, so a feed shows one entry, not one per flip."""

    __tablename__ = "ab_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), unique=True)
    detected_at: Mapped[datetime]
    first_flip_at: Mapped[datetime]
    last_flip_at: Mapped[datetime]
    reverts: Mapped[int] = mapped_column(Integer)
    # [{"seq": 1, "headline": "..."}, ...] in seq order.
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)


class SentenceAction(Base):
    """One sentence-level action (addition, deletion, edit, refactor) that made a version out
    of the one current before it (storage.sentence_actions)."""

    __tablename__ = "sentence_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    old_seq: Mapped[int]
    new_seq: Mapped[int]
    action: Mapped[str] = mapped_column(String(10))
    old_index: Mapped[int | None]
    new_index: Mapped[int | None]
    old_sentence: Mapped[str | None] = mapped_column(Text)
    new_sentence: Mapped[str | None] = mapped_column(Text)
    word_diff: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)


class CandidateText(Base):
    """What a story's candidate said when it was fetched, while it is not an article of any
    story: judged from here, made a version from here when it joins, kept when it is turned
    down (so another story can judge it without a new fetch, and ``export --include-rejected``
    can show it). A turned-down candidate never has version rows.
    """

    __tablename__ = "candidate_texts"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id", ondelete="SET NULL"))
    fetched_at: Mapped[datetime]
    headline: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # The rest of the extraction (storage.ingest.ExtractedVersion), JSON-ready.
    extraction: Mapped[dict[str, Any]] = mapped_column(JSONType)


__all__ = [
    "Base",
    "Outlet",
    "Story",
    "StorySource",
    "Article",
    "ArticleURL",
    "StoryArticle",
    "StoryCandidate",
    "Capture",
    "Version",
    "CandidateText",
    "ABTest",
    "SentenceAction",
    "UTCDateTime",
    "NAMING_CONVENTION",
]
