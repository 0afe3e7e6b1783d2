"""Claims: which worker does which due check, so that many workers never do one check twice.

A worker claims due rows (articles to re-check, sources to poll, seeds and candidates to
fetch) by writing its token and a lease deadline into them, in one statement that skips rows
another transaction holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer
anyway). A row whose lease ran out — its worker died — can be claimed again. A fetch renews
its claim just before it goes out and is dropped when the claim has moved on to another
worker, so a request that waited too long in the shared queue never duplicates a check.

Storing a capture releases the article's claim in the same transaction. Time is passed in;
functions take the session first and never commit.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from palimpsest.storage.models import Article, StoryCandidate, StorySource

# What can be claimed, by the name a request carries in its meta.
CLAIMABLE: dict[str, type[Article] | type[StorySource] | type[StoryCandidate]] = {
    "article": Article,
    "source": StorySource,
    "candidate": StoryCandidate,
}
# First key of the PostgreSQL advisory locks taken per story ("pa" for palimpsest).
_STORY_LOCK_SPACE = 0x7061


@dataclass(frozen=True)
class Lease:
    """One worker's claim: its token, when it claimed, and for how long."""

    token: str
    now: datetime
    seconds: float

    @property
    def until(self) -> datetime:
        return self.now + timedelta(seconds=self.seconds)


def new_token() -> str:
    """A claim token: the worker (host.pid), for whoever reads the tables, and a random part
    that makes every pass's claims its own."""
    return f"{socket.gethostname()[:12]}.{os.getpid()}.{uuid.uuid4().hex[:8]}"


def claim(session: Session, kind: str, due: Select, lease: Lease, limit: int) -> list[int]:
    """Claim up to ``limit`` of the rows ``due`` selects (ids of ``kind``, in priority order)
    that nobody holds; the ids claimed.

    On PostgreSQL the row locks make two workers claiming at once take disjoint rows, and the
    due condition is re-checked on the latest row version: a check stored a moment ago (and
    so no longer due) is not claimed again."""
    model = CLAIMABLE[kind]
    free = or_(model.claimed_until.is_(None), model.claimed_until <= lease.now)
    chosen = due.where(free).limit(limit).with_for_update(skip_locked=True, of=model)
    statement = (
        update(model)
        .where(model.id.in_(chosen.scalar_subquery()))
        .values(claim_token=lease.token, claimed_until=lease.until)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(statement))


def renew(session: Session, kind: str, row_id: int, token: str, until: datetime) -> bool:
    """Extend a claim still held under ``token``; False when it has expired and moved on
    (another worker claimed the row since) or the row is gone."""
    model = CLAIMABLE[kind]
    statement = (
        update(model)
        .where(model.id == row_id, model.claim_token == token)
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1


def release(row: Article | StorySource | StoryCandidate) -> None:
    """The check is done (its result is being stored in this transaction)."""
    row.claim_token = None
    row.claimed_until = None


def held_elsewhere(session: Session, now: datetime) -> tuple[int, datetime | None]:
    """How many due articles are claimed by a live lease, and when the first lease ends:
    what a worker with nothing to do waits for before it may take over a dead worker's work."""
    row = session.execute(
        select(func.count(), func.min(Article.claimed_until)).where(
            Article.state == "active",
            Article.next_check_at <= now,
            Article.claimed_until > now,
        )
    ).one()
    return row[0], row[1]


def try_lock_story(session: Session, story_id: int) -> bool:
    """Take the story's advisory lock until the transaction ends (PostgreSQL); False when
    another worker holds it. SQLite has a single writer: always True."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(_STORY_LOCK_SPACE, story_id))))
