"""Does an article belong to a story? (Pure: explainable rules, no model download.)

Two rules, in order:

1. **Terms**: the story's match terms (words or phrases, any case, whole words) found in the
   article's headline or text. Score: the share of the story's terms found.
2. **Similarity**: the share of vocabulary the article has in common with the story's seed
   articles — Jaccard similarity of their sets of content words (words of four letters or
   more, common function words left out). Two outlets covering one event name the same
   people, places and figures: on the project's seed pair (The Times and The Hill on
   Facebook's deals with Chinese phone makers) it is 0.33, while 60 unrelated real news
   pages all score below 0.07 against the same seed. The default threshold is 0.15.

A story with neither terms nor seed text takes what its own feeds and sitemaps list, and
nothing reached only through links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_THRESHOLD = 0.15
_WORD = re.compile(r"[^\W\d_][\w'’-]{3,}")
# Function words of four letters or more (English, German, French, Spanish): frequent in any
# text, so they say nothing about which story a text tells.
_STOPWORD_LINES = (
    "about above after again against also although among",
    "another anything around because been before being below between both came come could does doing down",
    "during each else even ever every first from further have having here hers herself himself into",
    "itself just last least less like made make many more most much must myself never next none often",
    "only other ours over own same says said shall should since some such than that their theirs them",
    "themselves then there these they this those though through under until upon very want well were what",
    "when where whether which while whom whose will with within without would year years your yours",
    "yourself told according asked added week weeks month months aber alle allem auch bisher dann dass",
    "dein denn diese dieser dieses doch dort durch eine einem einen einer eines habe haben hatte hier",
    "ihre ihrem ihren immer jetzt kann keine mehr muss nach nicht noch oder sehr sein seine sich sind",
    "sollen über unter viel vom wenn werden wieder wird wurde zwischen avec avoir cette comme dans depuis",
    "elle elles être leur leurs mais même nous pour plus sans sont sous tous tout très vous aussi après",
    "avant celle celui ces estaba están este esta esto hace hasta más muy para pero porque puede sobre",
    "también tiene todo todos unos unas cuando donde desde entre ellos ellas",
)
STOPWORDS = frozenset(word for line in _STOPWORD_LINES for word in line.split())


def vocabulary(text: str | None) -> frozenset[str]:
    """Content words of a text, lower-cased."""
    if not text:
        return frozenset()
    return frozenset(word for word in (w.lower() for w in _WORD.findall(text)) if word not in STOPWORDS)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _term_pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    joined: bool
    rule: str | None  # "terms" | "similar" | "source" | None
    score: float | None
    reason: str


@dataclass(frozen=True)
class StoryMatcher:
    terms: tuple[str, ...] = ()
    seed_vocabularies: tuple[frozenset[str], ...] = ()
    threshold: float = DEFAULT_THRESHOLD

    @classmethod
    def build(cls, terms: Iterable[str], seed_texts: Iterable[str], threshold: float | None = None) -> StoryMatcher:
        return cls(
            terms=tuple(t.strip() for t in terms if t and t.strip()),
            seed_vocabularies=tuple(v for v in map(vocabulary, seed_texts) if v),
            threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        )

    def judge(self, headline: str | None, text: str | None, *, how: str) -> Verdict:
        """Whether an article reached by ``how`` (feed, sitemap, link) joins the story."""
        body = f"{headline or ''}\n{text or ''}"
        if self.terms:
            found = [term for term in self.terms if _term_pattern(term).search(body)]
            if found:
                return Verdict(
                    True, "terms", round(len(found) / len(self.terms), 4), f"terms found: {', '.join(found)}"
                )
        if self.seed_vocabularies:
            words = vocabulary(body)
            similarity = round(max(jaccard(words, seed) for seed in self.seed_vocabularies), 4)
            if similarity >= self.threshold:
                return Verdict(True, "similar", similarity, f"shares {similarity:.0%} of its vocabulary with a seed")
            terms_note = f"none of the terms ({', '.join(self.terms)}); " if self.terms else ""
            return Verdict(False, None, similarity, f"{terms_note}similarity {similarity:.2f} < {self.threshold:.2f}")
        if self.terms:
            return Verdict(False, None, 0.0, f"none of the terms ({', '.join(self.terms)}) and no seed text yet")
        if how in ("feed", "sitemap"):
            return Verdict(True, "source", None, "the story has no match rules: its own sources are taken as they are")
        return Verdict(False, None, None, "the story has no match rules: links are not followed blindly")
