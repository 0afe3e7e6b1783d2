"""What a capture's new text means for the archive (pure): a new version, the same version, a
revert to an earlier one, or a suspect capture that waits for a second check.

Outlets A/B-test headlines (A, B, A, B...) and templates break (the body moves into a script
blob, a consent wall replaces the page). Storing each flip or each collapse as a version would
bury the real edits, so a text already archived is a *revert*, and a text that collapses (or
no longer shares its body with the current version under the same headline) is *suspect*
until the next check sees it again. Every decision carries a reason a user can read. No I/O;
time is a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from palimpsest.storage.versioning import normalise_body, normalise_line

# Capture outcomes this module decides (besides the ones storage.ingest decides itself).
NEW_VERSION, UNCHANGED, REVERT, SUSPECT = "new_version", "unchanged", "revert", "suspect"
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class RevisionPolicy:
    """Thresholds (settings PALIMPSEST_AB_WINDOW_HOURS, PALIMPSEST_AB_MIN_REVERTS,
    PALIMPSEST_SUSPECT_TEXT_RATIO, PALIMPSEST_SUSPECT_BODY_OVERLAP, PALIMPSEST_SUSPECT_MIN_WORDS)."""

    ab_window: timedelta = timedelta(hours=24)
    ab_min_reverts: int = 2
    # A text with fewer words than this share of the current version's, and no paywall evidence.
    suspect_text_ratio: float = 0.5
    # Same headline, but fewer than this share of the current body's words still there.
    suspect_body_overlap: float = 0.2
    # Texts shorter than this (a brief, a stub) are too short to tell breakage from an edit.
    suspect_min_words: int = 40

    def __post_init__(self) -> None:
        if self.ab_window <= timedelta(0):
            raise ValueError("ab_window must be positive")
        if self.ab_min_reverts < 1:
            raise ValueError("ab_min_reverts must be at least 1")
        for name in ("suspect_text_ratio", "suspect_body_overlap"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> RevisionPolicy:
        """From already-checked settings (crawler.configuration); missing names keep defaults."""
        default = cls()

        def number(name: str, fallback: float) -> float:
            value = settings.get(name)
            return fallback if value in (None, "") else float(value)  # type: ignore[arg-type]

        return cls(
            ab_window=timedelta(hours=number("PALIMPSEST_AB_WINDOW_HOURS", default.ab_window.total_seconds() / 3600)),
            ab_min_reverts=int(number("PALIMPSEST_AB_MIN_REVERTS", default.ab_min_reverts)),
            suspect_text_ratio=number("PALIMPSEST_SUSPECT_TEXT_RATIO", default.suspect_text_ratio),
            suspect_body_overlap=number("PALIMPSEST_SUSPECT_BODY_OVERLAP", default.suspect_body_overlap),
            suspect_min_words=int(number("PALIMPSEST_SUSPECT_MIN_WORDS", default.suspect_min_words)),
        )


@dataclass(frozen=True)
class TextFacts:
    """What the decision needs of a version or of a new extraction."""

    content_hash: str
    headline: str | None
    text: str
    word_count: int
    paywall_evidence: bool = False  # a wall, a teaser, an incomplete text: storage.ingest's business


@dataclass(frozen=True)
class Decision:
    outcome: str  # new_version | unchanged | revert | suspect
    reason: str | None = None
    revert_to_seq: int | None = None
    extra_kinds: tuple[str, ...] = ()  # added to the change kinds of a confirmed suspect text


def body_overlap(old_text: str, new_text: str) -> float:
    """Share of the old body's distinct words still in the new body (0..1; 1 for an empty old)."""
    old = set(_WORDS.findall(normalise_body(old_text).casefold()))
    if not old:
        return 1.0
    new = set(_WORDS.findall(normalise_body(new_text).casefold()))
    return len(old & new) / len(old)


def suspicion(current: TextFacts, new: TextFacts, policy: RevisionPolicy) -> tuple[str, str] | None:
    """(cause, reason) when the new text looks like broken extraction rather than an edit:
    cause "collapse" (text below the ratio, no paywall evidence) or "block" (same headline,
    a body that shares almost nothing with the current one). Never for a current text shorter
    than ``suspect_min_words``."""
    if new.paywall_evidence or current.word_count < policy.suspect_min_words:
        return None
    if new.word_count < policy.suspect_text_ratio * current.word_count:
        return "collapse", (
            f"text fell to {new.word_count} words from {current.word_count} "
            f"(below {policy.suspect_text_ratio:.0%}) with no paywall evidence"
        )
    if normalise_line(new.headline) == normalise_line(current.headline):
        overlap = body_overlap(current.text, new.text)
        if overlap < policy.suspect_body_overlap:
            return "block", (
                f"same headline but only {overlap:.0%} of the body's words remain "
                f"(below {policy.suspect_body_overlap:.0%}): the extractor found a different main block"
            )
    return None


def decide(
    current: TextFacts | None,
    earlier: Mapping[str, int],
    new: TextFacts,
    *,
    pending_suspect_hash: str | None,
    policy: RevisionPolicy,
) -> Decision:
    """What a capture whose extraction is ``new`` means.

    ``current``: the article's current version (None for a first capture); ``earlier``: the
    content hashes of its other versions -> their seq; ``pending_suspect_hash``: the content
    hash of the article's previous capture when that one was suspect.
    """
    if current is None:
        return Decision(NEW_VERSION, "first version")
    if new.content_hash == current.content_hash:
        return Decision(UNCHANGED)
    if new.content_hash in earlier:
        seq = earlier[new.content_hash]
        return Decision(REVERT, f"same text as version {seq}", revert_to_seq=seq)
    suspected = suspicion(current, new, policy)
    if suspected is None:
        return Decision(NEW_VERSION)
    cause, reason = suspected
    if pending_suspect_hash == new.content_hash:
        extra = ("extraction",) if cause == "block" else ()
        return Decision(NEW_VERSION, f"confirmed by a second check: {reason}", extra_kinds=extra)
    return Decision(SUSPECT, f"{reason}; no version until a second check confirms it")


@dataclass(frozen=True)
class ABTest:
    """An article going back and forth between versions: its variants, oldest first."""

    variant_seqs: tuple[int, ...]
    reverts: int
    first_flip_at: datetime
    last_flip_at: datetime


def detect_ab_test(
    reverts: Iterable[tuple[datetime, int]], left_seq: int, now: datetime, policy: RevisionPolicy
) -> ABTest | None:
    """``reverts``: (when, seq reverted to) of the article's reverts, this one included;
    ``left_seq``: the version this revert left. An A/B test when at least ``ab_min_reverts``
    happened within ``ab_window`` before ``now``; its variants are the versions they went
    between."""
    recent = sorted(r for r in reverts if now - policy.ab_window <= r[0] <= now)
    if len(recent) < policy.ab_min_reverts:
        return None
    seqs = sorted({seq for _when, seq in recent} | {left_seq})
    return ABTest(tuple(seqs), len(recent), recent[0][0], recent[-1][0])


def ab_title(headlines: Iterable[str | None]) -> str:
    """'Headline A/B test: «A» / «B»' (each distinct headline once, in variant order)."""
    shown = list(dict.fromkeys(h or "(no headline)" for h in headlines))
    return "Headline A/B test: " + " / ".join(f"«{h}»" for h in shown)
