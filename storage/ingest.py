"""One capture into the archive: the capture row, the version if the text changed, the article's
state. Called inside the caller's transaction, so a capture and its version land together or
not at all.

The crawler hands over plain records (what was fetched, what was extracted); deciding what
they mean for the archive (new version, unchanged, gone...) happens here, against the
database's current state, not against what the crawler believed when it sent the request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session, defer

from palimpsest.storage import claims, revision_rows, stories
from palimpsest.storage import repository as repo
from palimpsest.storage.boundary import cleaned, fitted
from palimpsest.storage.diffing import KIND_ORDER, VersionFields, classify_changes
from palimpsest.storage.models import Article, ArticleURL, CandidateText, Capture, Outlet, Version
from palimpsest.storage.revisions import REVERT, SUSPECT, RevisionPolicy, TextFacts, decide
from palimpsest.storage.schedule import CheckOutcome, SchedulePolicy
from palimpsest.storage.versioning import is_shortened_form, normalise_line

GONE_STATUSES = frozenset({404, 410})
OUTCOMES = (
    "new_version", "unchanged", "not_modified", "paywalled", "gone", "error", "refused",
    "candidate",  # fetched for a story that has not judged it yet: its text waits in candidate_texts
    "rejected",  # a candidate the stories that judged it turned down
    "not_article",  # an index page (front, section, tag, listing...): never a version
    "revert",  # the text of an earlier version again: that version is current again (storage.revisions)
    "suspect",  # looks like broken extraction: no version until a second check sees the same text
)  # fmt: skip
# Articles whose text is only judged, not archived as versions, until a story takes them.
UNDECIDED_STATES = ("candidate", "rejected", "index")


@dataclass(frozen=True)
class FetchRecord:
    """What one fetch observed. URLs are already normalised (crawler.extract.urls)."""

    requested_url: str
    canonical_url: str
    outlet_domain: str
    fetched_at: datetime
    final_url: str | None = None
    url_variants: tuple[tuple[str, str], ...] = ()
    outlet_name: str | None = None
    duration_ms: int | None = None
    http_status: int | None = None
    content_type: str | None = None
    content_length: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    # Set by the crawler when it already knows: "error", "refused", "not_modified".
    outcome: str | None = None
    error: str | None = None
    based_on_url: str | None = None
    retry_after_seconds: float | None = None  # from a 429/503 Retry-After header
    # www./scheme/trailing-slash forms of the canonical URL: the same article if the text is too.
    loose_variants: tuple[str, ...] = ()
    # The article the crawler already knew this URL as (from its plan): no lookup needed.
    known_article_id: int | None = None


@dataclass(frozen=True)
class ExtractedVersion:
    """The candidate version a capture's extraction produced, already normalised and hashed."""

    headline: str | None
    dek: str | None
    byline: str | None
    text: str
    content_hash: str
    word_count: int
    extractor: str
    captions: str | None = None
    published_at: datetime | None = None
    published_raw: str | None = None
    published_source: str | None = None
    modified_at: datetime | None = None
    modified_raw: str | None = None
    modified_source: str | None = None
    language: str | None = None
    access: str = "unknown"
    complete: bool = True
    evidence: list[dict[str, Any]] = field(default_factory=list)
    # Links the article makes in its own paragraphs (absolute, as written).
    links: tuple[str, ...] = ()
    # "article", or "index" (a front, section, tag or listing page: never a version), and why.
    page_type: str = "article"
    page_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO 8601), for a candidate's text kept outside versions."""
        data = asdict(self)
        for key in ("published_at", "modified_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        data["links"] = list(self.links)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExtractedVersion:
        values = dict(data)
        for key in ("published_at", "modified_at"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        values["links"] = tuple(values.get("links") or ())
        return cls(**{name: values[name] for name in cls.__dataclass_fields__ if name in values})


@dataclass(frozen=True)
class StoryLink:
    """How this fetch relates to a story: a seed that joins it, or a candidate to be judged."""

    slug: str
    how: str = "seed"
    score: float | None = None
    candidate_url: str | None = None  # set for a candidate fetch: the URL the story recorded


@dataclass(frozen=True)
class IngestResult:
    capture_id: int
    article_id: int
    article_url: str
    outcome: str
    version_seq: int | None  # the article's current version after this capture
    change_kinds: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class CaptureJob:
    """One capture to store, as a batch of them hands it over."""

    fetch: FetchRecord
    candidate: ExtractedVersion | None
    now: datetime
    story: StoryLink | None = None


# (previous version's content hash, candidate's content hash) -> (change kinds, similarity).
Classified = dict[tuple[str, str], tuple[tuple[str, ...], float]]
# Candidates at least this long are classified before the write transaction (classify_ahead).
CLASSIFY_AHEAD_MIN_WORDS = 2000


@dataclass
class KnownState:
    """What a batch loaded up front, in one query each, instead of once per capture: the
    articles the crawler already knew, their current versions (without the text, which an
    unchanged re-check never reads), and which of the batch's URLs are recorded already."""

    articles: dict[int, Article] = field(default_factory=dict)
    current: dict[int, Version | None] = field(default_factory=dict)
    urls: set[str] | None = None
    by_url: dict[str, Article] | None = None  # the batch's URLs that belong to an article
    classified: Classified = field(default_factory=dict)  # from classify_ahead

    def find_article(self, session: Session, urls: list[str]) -> Article | None:
        if self.by_url is None:
            return repo.find_article_by_urls(session, urls)
        return next((self.by_url[url] for url in urls if url in self.by_url), None)

    def remember(self, article: Article, fetch: FetchRecord) -> None:
        if self.by_url is not None:
            for url, _kind in fetch.url_variants:
                self.by_url.setdefault(url, article)

    def article(self, session: Session, article_id: int) -> Article | None:
        return self.articles.get(article_id) or session.get(Article, article_id)

    def current_version(self, session: Session, article_id: int) -> Version | None:
        if article_id in self.current:
            return self.current[article_id]
        return repo.current_version(session, article_id)


def preload(session: Session, jobs: list[CaptureJob]) -> KnownState:
    known = KnownState()
    ids = {job.fetch.known_article_id for job in jobs if job.fetch.known_article_id}
    if ids:
        known.articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(ids)))}
        latest = (
            select(Version.article_id, func.max(Version.seq).label("seq"))
            .where(Version.article_id.in_(ids))
            .group_by(Version.article_id)
            .subquery()
        )
        versions = session.scalars(
            select(Version)
            .join(latest, Version.article_id == latest.c.article_id)
            .join(Article, Article.id == Version.article_id)
            .where(Version.seq == func.coalesce(Article.current_seq, latest.c.seq))
            .options(defer(Version.text), defer(Version.captions))
        )
        known.current = dict.fromkeys(known.articles) | {v.article_id: v for v in versions}
    urls = {url for job in jobs for url, _kind in job.fetch.url_variants if url}
    known.urls = set(session.scalars(select(ArticleURL.url).where(ArticleURL.url.in_(urls)))) if urls else set()
    looked_up = {url for job in jobs if not job.fetch.known_article_id for url in _identity_urls(job.fetch)}
    known.by_url = repo.articles_by_urls(session, sorted(looked_up))
    return known


def _identity_urls(fetch: FetchRecord) -> list[str]:
    """The URLs that identify the article a fetch belongs to."""
    return [url for url in (fetch.canonical_url, fetch.requested_url, fetch.final_url) if url]


def _fields(version: Version | ExtractedVersion) -> VersionFields:
    """(Also for candidates not yet stored, hence not storage.history.version_fields.)"""
    return VersionFields(
        headline=version.headline,
        dek=version.dek,
        byline=version.byline,
        text=version.text,
        access=version.access,
        complete=version.complete,
    )


def classify_ahead(session: Session, jobs: list[CaptureJob]) -> Classified:
    """The change kinds of the batch's long candidates, read and computed before the write
    transaction opens, so that diffing a long text never holds the database's write lock.
    ``ingest_captures(classified=...)`` uses an answer only if the current version is still
    the one it was computed against; otherwise it diffs again."""
    classified: Classified = {}
    for job in jobs:
        candidate, fetch = job.candidate, job.fetch
        if candidate is None or candidate.word_count < CLASSIFY_AHEAD_MIN_WORDS or fetch.outcome:
            continue
        article_id = fetch.known_article_id
        if article_id is None:
            article = repo.find_article_by_urls(session, _identity_urls(fetch))
            article_id = article.id if article is not None else None
        previous = repo.current_version(session, article_id) if article_id is not None else None
        if previous is None or previous.content_hash == candidate.content_hash:
            continue
        key = (previous.content_hash, candidate.content_hash)
        if key not in classified:
            classified[key] = classify_changes(_fields(previous), _fields(candidate))
    return classified


def _new_version(
    session: Session,
    article: Article,
    previous: Version | None,
    candidate: ExtractedVersion,
    now: datetime,
    extra_kinds: tuple[str, ...] = (),
    classified: Classified | None = None,
) -> Version:
    """``previous``: the version current until now (the diff, kinds and sentence actions are
    against it); after a revert it is not the latest, so the seq comes from the latest."""
    kinds: tuple[str, ...] = ()
    similarity = None
    if previous is not None:
        ahead = (classified or {}).get((previous.content_hash, candidate.content_hash))
        kinds, similarity = ahead or classify_changes(_fields(previous), _fields(candidate))
        kinds = tuple(kind for kind in KIND_ORDER if kind in set(kinds) | set(extra_kinds))
    if previous is None:
        seq = 1
    elif article.current_seq is None:
        seq = previous.seq + 1
    else:
        seq = revision_rows.latest_seq(session, article.id) + 1
    article.current_seq = None  # the new version is the latest
    version = Version(
        article_id=article.id,
        seq=seq,
        first_seen_at=now,
        last_seen_at=now,
        headline=candidate.headline,
        dek=candidate.dek,
        byline=candidate.byline,
        published_at=candidate.published_at,
        published_raw=candidate.published_raw,
        published_source=candidate.published_source,
        modified_at=candidate.modified_at,
        modified_raw=candidate.modified_raw,
        modified_source=candidate.modified_source,
        language=candidate.language,
        text=candidate.text,
        captions=candidate.captions,
        content_hash=candidate.content_hash,
        word_count=candidate.word_count,
        access=candidate.access,
        complete=candidate.complete,
        paywall_evidence=list(candidate.evidence),
        extractor=candidate.extractor,
        change_kinds=list(kinds),
        similarity=similarity,
        links=list(candidate.links),
    )
    if session.get_bind().dialect.name == "postgresql":
        # The top-level transaction's id (also inside a savepoint), evaluated at flush: export
        # cursors are snapshots, and this says which snapshots can see the row.
        version.txid = literal_column("pg_current_xact_id()::text::bigint")
    session.add(version)
    session.flush()
    if previous is not None:
        revision_rows.record_sentence_actions(session, previous, version)
    return version


def _is_teaser_of(candidate: ExtractedVersion, current: Version) -> bool:
    """The capture got only the start of the text already archived, behind a wall."""
    return (
        candidate.access in ("hard", "registration")
        and not candidate.complete
        and current.complete
        and normalise_line(candidate.headline) == normalise_line(current.headline)
        and is_shortened_form(candidate.text, current.text)
    )


def _same_text_elsewhere(session: Session, fetch: FetchRecord, candidate: ExtractedVersion | None) -> Article | None:
    """An article known under a www./scheme/slash variant of this URL, with the same text."""
    article = repo.find_article_by_urls(session, list(fetch.loose_variants))
    if article is None or candidate is None:
        return None
    current = repo.current_version(session, article.id)
    return article if current is not None and current.content_hash == candidate.content_hash else None


def _validators_lied(session: Session, article: Article, fetch: FetchRecord) -> bool:
    """Did the host's ETag or Last-Modified claim "unchanged" about content that changed?

    Two tells: a full response with the stored ETag but a different payload, and a full
    response whose Last-Modified is older than a 304 we were given after it.
    """
    if fetch.http_status != 200 or not fetch.payload_digest or not article.last_payload_digest:
        return False
    if fetch.payload_digest == article.last_payload_digest:
        return False
    if article.etag and fetch.etag == article.etag:
        return True
    last = repo.last_capture(session, article.id)
    if last is None or last.outcome != "not_modified" or not fetch.last_modified:
        return False
    try:
        modified = parsedate_to_datetime(fetch.last_modified)
    except (TypeError, ValueError):
        return False
    return modified.tzinfo is not None and modified <= last.fetched_at


def _decide(
    session: Session,
    article: Article,
    fetch: FetchRecord,
    candidate: ExtractedVersion | None,
    now: datetime,
    known: KnownState,
    created: bool = False,
    judging: bool = False,
    revisions: RevisionPolicy | None = None,
) -> tuple[str, Version | None, str | None, str | None]:
    """(outcome, the version this capture saw or created, error text, why: for a revert, a
    suspect text, a confirmed one). ``judging``: a story's candidate not yet an article of any
    story, whose text is judged before it is archived."""
    if fetch.outcome in ("error", "refused"):
        return fetch.outcome, None, fetch.error, None
    if fetch.http_status in GONE_STATUSES:
        return "gone", None, fetch.error or f"HTTP {fetch.http_status}", None
    if candidate is not None and candidate.page_type != "article":
        return "not_article", None, candidate.page_reason or "index page", None
    if judging and candidate is not None:
        return "candidate", None, None, None
    current = None if created else known.current_version(session, article.id)
    if fetch.outcome == "not_modified" or fetch.http_status == 304:
        outcome, seen = "not_modified", current
    elif candidate is None:
        if current is None or fetch.payload_digest != article.last_payload_digest:
            # Extraction was skipped on a stale belief; an error, so the schedule looks again soon.
            return "error", None, "extraction skipped but the stored state moved on; re-check scheduled", None
        outcome, seen = "unchanged", current
    elif current is not None and current.content_hash == candidate.content_hash:
        outcome, seen = "unchanged", current
    elif current is not None and _is_teaser_of(candidate, current):
        # A paywall is not an edit: the full text stays the current version.
        return "paywalled", current, None, None
    else:
        return _changed(session, article, current, candidate, now, known, revisions or RevisionPolicy())
    if seen is not None:
        seen.last_seen_at = max(seen.last_seen_at, now)
    return outcome, seen, None, None


def _facts(version: Version | ExtractedVersion) -> TextFacts:
    # Paywall evidence: the extraction judged the page walled or metered (a free page that lost
    # its text is incomplete too, but that is what a suspect capture is).
    paywall = isinstance(version, ExtractedVersion) and version.access in ("hard", "registration", "metered")
    return TextFacts(version.content_hash, version.headline, version.text, version.word_count, paywall)


def _changed(
    session: Session,
    article: Article,
    current: Version | None,
    candidate: ExtractedVersion,
    now: datetime,
    known: KnownState,
    policy: RevisionPolicy,
) -> tuple[str, Version | None, str | None, str | None]:
    """A text other than the current version's: a new version, a revert or a suspect capture
    (storage.revisions decides; this writes the rows)."""
    earlier: dict[str, int] = {}
    pending = None
    if current is not None:
        earlier = revision_rows.earlier_hashes(session, article.id, current.seq)
        pending = revision_rows.pending_suspect_hash(session, article.id)
    decision = decide(
        _facts(current) if current is not None else None,
        earlier,
        _facts(candidate),
        pending_suspect_hash=pending,
        policy=policy,
    )
    if decision.outcome == REVERT and current is not None and decision.revert_to_seq is not None:
        target = repo.version_by_seq(session, article.id, decision.revert_to_seq)
        if target is not None:
            revision_rows.record_revert(session, article, current, target, now, policy)
            known.current[article.id] = target
            return REVERT, target, None, decision.reason
    if decision.outcome == SUSPECT:
        return SUSPECT, None, None, decision.reason
    version = _new_version(session, article, current, candidate, now, decision.extra_kinds, known.classified)
    known.current[article.id] = version
    # Only a confirmed suspect text has a reason worth keeping ("confirmed by a second check: ...").
    return "new_version", version, None, decision.reason if current is not None else None


_SCHEDULE_OUTCOMES = {
    "new_version": "changed",
    "unchanged": "unchanged",
    "not_modified": "unchanged",
    "paywalled": "paywalled",
    "gone": "gone",
    "error": "error",
    "refused": "error",
    "not_article": "unchanged",  # an article that now shows as an index page: looked at again later
    "revert": "unchanged",  # a text already archived: not an edit
    "suspect": "error",  # looked at again soon, so a second check confirms or clears it
}


# Bounded text columns (storage.models) that a server or a page fills: cut, never refused.
_FETCH_LIMITS = {"content_type": 255, "payload_digest": 80, "outlet_name": 255}
_VERSION_LIMITS = {"published_source": 40, "modified_source": 40, "language": 20}


def _safe(job: CaptureJob) -> CaptureJob:
    """The job as every database takes it: refused characters removed, bounded fields cut."""
    job = cleaned(job)
    fetch = fitted(job.fetch, _FETCH_LIMITS)
    candidate = fitted(job.candidate, _VERSION_LIMITS) if job.candidate is not None else None
    if fetch is job.fetch and candidate is job.candidate:
        return job
    return CaptureJob(fetch, candidate, job.now, job.story)


def ingest_capture(
    session: Session,
    fetch: FetchRecord,
    candidate: ExtractedVersion | None,
    *,
    now: datetime,
    story: StoryLink | None = None,
    policy: SchedulePolicy | None = None,
    outlet_ids: dict[str, int] | None = None,
    revisions: RevisionPolicy | None = None,
) -> IngestResult:
    """Store one capture (and its version, if new), and schedule the next check. Does not commit.

    ``outlet_ids``: a caller's cache of outlet ids by domain, kept across captures;
    ``revisions``: revert, A/B test and suspect thresholds (storage.revisions).
    """
    known = KnownState()
    job = _safe(CaptureJob(fetch, candidate, now, story))
    stored = _store(session, job, policy or SchedulePolicy(), outlet_ids, known, revisions)
    session.flush()
    return stored.result(known)


def ingest_captures(
    session: Session,
    jobs: list[CaptureJob],
    *,
    policy: SchedulePolicy | None = None,
    outlet_ids: dict[str, int] | None = None,
    revisions: RevisionPolicy | None = None,
    classified: Classified | None = None,
) -> list[IngestResult]:
    """Store a batch of captures, in order, in the caller's transaction. Does not commit.

    The same decisions as ``ingest_capture``, one capture after the other, but what the
    batch needs to know is read in a few queries up front and the rows are written in one
    flush: a re-crawl of unchanged pages costs a fraction of the statements.
    """
    jobs = [_safe(job) for job in jobs]
    known = preload(session, jobs)
    known.classified = classified or {}
    stored = [_store(session, job, policy or SchedulePolicy(), outlet_ids, known, revisions) for job in jobs]
    session.flush()
    return [item.result(known) for item in stored]


@dataclass
class _Stored:
    session: Session
    article: Article
    capture: Capture
    outcome: str
    version: Version | None
    error: str | None

    def result(self, known: KnownState) -> IngestResult:
        current = self.version or known.current_version(self.session, self.article.id)
        return IngestResult(
            capture_id=self.capture.id,
            article_id=self.article.id,
            article_url=self.article.canonical_url,
            outcome=self.outcome,
            version_seq=current.seq if current is not None else None,
            change_kinds=tuple(self.version.change_kinds) if self.outcome == "new_version" and self.version else (),
            error=self.error,
        )


def _store(
    session: Session,
    job: CaptureJob,
    policy: SchedulePolicy,
    outlet_ids: dict[str, int] | None,
    known: KnownState,
    revisions: RevisionPolicy | None = None,
) -> _Stored:
    fetch, candidate, now, story = job.fetch, job.candidate, job.now, job.story
    article = known.article(session, fetch.known_article_id) if fetch.known_article_id else None
    if article is None:
        article = known.find_article(session, _identity_urls(fetch))
    if article is None and fetch.loose_variants:
        article = _same_text_elsewhere(session, fetch, candidate)
    created = False
    if article is None:
        outlet = repo.get_or_create_outlet(session, fetch.outlet_domain, fetch.outlet_name, now, outlet_ids)
        article, created = repo.get_or_create_article(session, fetch.canonical_url, outlet, now)
        if created and story is not None and story.candidate_url:
            article.state = "candidate"  # fetched to be judged; followed only if it joins a story
    elif fetch.outlet_name:
        repo.get_or_create_outlet(session, fetch.outlet_domain, fetch.outlet_name, now, outlet_ids)
    repo.record_url_variants(session, article, fetch.url_variants, now, known=known.urls)
    known.remember(article, fetch)
    if article.claim_token is not None:
        claims.release(article)  # this capture is the claimed check's result

    if _validators_lied(session, article, fetch):
        outlet = session.get(Outlet, article.outlet_id)
        if outlet is not None:
            outlet.validators_trusted = False
    judging = story is not None and story.candidate_url is not None and (created or article.state in UNDECIDED_STATES)
    outcome, version, error, reason = _decide(
        session, article, fetch, candidate, now, known, created, judging, revisions
    )
    if outcome == "candidate":
        article.state = "candidate"
    elif outcome == "not_article" and (created or article.state in UNDECIDED_STATES):
        article.state, article.next_check_at = "index", None  # never followed as an article

    if outcome not in ("error", "refused"):
        article.last_checked_at = now
        # A suspect page's digest is not remembered: the next check fetches and extracts it again.
        if fetch.payload_digest and outcome not in ("not_modified", "suspect"):
            article.last_payload_digest = fetch.payload_digest
        if (fetch.etag or fetch.last_modified) and outcome != "suspect":  # nor its validators (no 304 for it)
            article.etag, article.last_modified = fetch.etag, fetch.last_modified
        if fetch.based_on_url:
            article.based_on_url = fetch.based_on_url
    if candidate is not None and candidate.published_at and article.published_at is None:
        article.published_at = candidate.published_at
    if outcome == "new_version":
        article.last_changed_at = now
    if article.state in ("gone", "retired") and outcome in ("new_version", "unchanged", "not_modified", "paywalled"):
        article.state = "active"  # it answers again: follow it again
    if article.state == "active":  # a refused fetch too: retried on the error back-off
        retry_after = timedelta(seconds=fetch.retry_after_seconds) if fetch.retry_after_seconds else None
        kind = _SCHEDULE_OUTCOMES[outcome]
        stories.schedule(
            article, CheckOutcome(kind=kind, http_status=fetch.http_status, retry_after=retry_after), now, policy
        )

    capture = capture_row(
        article, fetch, outcome, error, version,
        reason=reason, content_hash=candidate.content_hash if outcome == SUSPECT and candidate is not None else None,
    )  # fmt: skip
    session.add(capture)
    if outcome == "candidate" and candidate is not None:
        session.flush()  # the capture's id, for the text kept with it
        keep_candidate_text(session, article, capture, candidate)
    if story is not None:
        story_row = repo.get_or_create_story(session, story.slug, None, now)
        turned_down = error if outcome == "not_article" else None
        if story.candidate_url:
            stories.link_candidate(
                session, story_row.id, story.candidate_url, article, turned_down=turned_down, now=now
            )
        elif turned_down:
            stories.turn_down(
                session, story_row.id, fetch.canonical_url, article, how=story.how, reason=turned_down, now=now
            )
        else:
            repo.add_to_story(session, story_row, article, story.how, story.score, now)
    return _Stored(session, article, capture, outcome, version, error)


def capture_row(
    article: Article, fetch: FetchRecord, outcome: str, error: str | None, version: Version | None, **columns: Any
) -> Capture:
    """The capture row of one fetch (a crawl's or an archive's): what came back, where its
    bytes are in the WARC, and what was made of it; ``columns``: the caller's own."""
    return Capture(
        article_id=article.id,
        requested_url=fetch.requested_url,
        final_url=fetch.final_url,
        fetched_at=fetch.fetched_at,
        duration_ms=fetch.duration_ms,
        http_status=fetch.http_status,
        content_type=fetch.content_type,
        content_length=fetch.content_length,
        etag=fetch.etag,
        last_modified=fetch.last_modified,
        payload_digest=fetch.payload_digest,
        warc_file=fetch.warc_file,
        warc_offset=fetch.warc_offset,
        warc_length=fetch.warc_length,
        outcome=outcome,
        error=error,
        version_id=version.id if version is not None else None,
        **columns,
    )


def keep_candidate_text(session: Session, article: Article, capture: Capture, candidate: ExtractedVersion) -> None:
    """What a candidate's capture said, kept until a story judges it (the latest capture wins)."""
    kept = session.get(CandidateText, article.id)
    if kept is None:
        kept = CandidateText(article_id=article.id)
        session.add(kept)
    kept.capture_id, kept.fetched_at = capture.id, capture.fetched_at
    kept.headline, kept.text = candidate.headline, candidate.text
    kept.extraction = candidate.to_json()


def version_from_candidate_text(session: Session, article: Article, kept: CandidateText, now: datetime) -> Version:
    """A candidate that joined a story: its kept text becomes its first version, seen when it
    was fetched, and the capture that fetched it points at it. The kept text goes."""
    candidate = ExtractedVersion.from_json(kept.extraction)
    version = _new_version(session, article, repo.current_version(session, article.id), candidate, kept.fetched_at)
    capture = session.get(Capture, kept.capture_id) if kept.capture_id else None
    if capture is not None:
        capture.outcome, capture.version_id = "new_version", version.id
    article.last_changed_at = kept.fetched_at
    session.delete(kept)
    return version
