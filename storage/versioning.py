"""What makes a version a version: normalised fields and their hash (pure).

Two captures are the same version when their headline, dek, byline and body agree after
normalisation: Unicode NFC, one kind of quote and dash, whitespace collapsed within a
paragraph, paragraphs separated by one blank line. Template churn (a new ad slot, a changed
script tag) therefore never creates a version; a changed word always does.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n+")


def normalise_line(value: str | None) -> str:
    """NFC, plain quotes and dashes, single spaces, trimmed."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value).translate(_QUOTES)
    return _SPACES.sub(" ", value.replace("\n", " ")).strip()


def split_paragraphs(text: str | None) -> list[str]:
    """Paragraphs of a stored body (separated by blank lines), empty ones dropped."""
    if not text:
        return []
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")) if p.strip()]


def normalise_body(text: str | None) -> str:
    return "\n\n".join(line for line in (normalise_line(p) for p in split_paragraphs(text)) if line)


@dataclass(frozen=True)
class VersionContent:
    """The fields that define a version, already normalised."""

    headline: str
    dek: str
    byline: str
    text: str

    @classmethod
    def of(cls, headline: str | None, dek: str | None, byline: str | None, text: str | None) -> VersionContent:
        return cls(normalise_line(headline), normalise_line(dek), normalise_line(byline), normalise_body(text))

    @property
    def content_hash(self) -> str:
        """sha256 over the four fields; a separator that cannot occur in them keeps them apart."""
        joined = "\x1f".join((self.headline, self.dek, self.byline, self.text))
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def is_shortened_form(teaser: str | None, full: str | None) -> bool:
    """Is ``teaser`` the start of ``full``, cut at a paywall? (Pure; normalised comparison.)

    Every teaser paragraph but the last must be a paragraph of the full text, in order from
    the top; the last may stop mid-paragraph (walls often cut a sentence). A teaser that is
    as long as the full text is not shortened.
    """
    short = [normalise_line(p) for p in split_paragraphs(teaser)]
    whole = [normalise_line(p) for p in split_paragraphs(full)]
    if not short or len(short) > len(whole) or sum(map(len, short)) >= sum(map(len, whole)):
        return False
    *complete_paragraphs, last = short
    if complete_paragraphs != whole[: len(complete_paragraphs)]:
        return False
    candidate = whole[len(complete_paragraphs)]
    return candidate.startswith(last.rstrip(".…").rstrip())
