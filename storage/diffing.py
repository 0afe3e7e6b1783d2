"""What changed between two versions of an archived article (pure, stdlib only).

``diff_versions(old, new)`` compares headline, dek and byline word by word, and the body word
by word *within paragraphs*: paragraphs are aligned first, so an inserted paragraph reads as
one insertion instead of a cascade of shifted words. ``classify_changes`` turns the diff into
a short list of change kinds ("headline", "body", "correction", ...) and a similarity score;
``diff_to_json`` presents it (``storage.diff_render`` renders it for terminals and browsers).

Normalisation
-------------
Texts are compared after normalisation: Unicode NFC, curly quotes/guillemets as straight
quotes, en/em dashes and the minus sign as "-", invisible characters (soft hyphen, zero-width
space/joiners, BOM) removed, whitespace collapsed: the rules of ``storage.versioning`` plus a
few invisible characters. A difference that normalisation removes is *no* difference: it
gives kinds ``()`` and similarity 1.0, and the word ops mark it "equal" (whose old/new spans
may then differ in whitespace or quote style; both are kept so either text can be rebuilt).

JSON schema "palimpsest.diff/1" (``diff_to_json``)
--------------------------------------------------
::

    {
      "schema": "palimpsest.diff/1",
      "kinds": ["headline", "body"],   # subset of KIND_ORDER, in that order; [] = no change
      "similarity": 0.9731,            # word-level, whole version, 0..1, 4 decimals
      "access":   {"old": "metered", "new": "hard", "changed": true},
      "complete": {"old": true, "new": false, "changed": true},
      "fields": {
        "headline": {                  # likewise "dek" and "byline"
          "old": "Old headline" | null,
          "new": "New headline" | null,
          "changed": true,             # differs after normalisation
          "ops": [{"op": "equal" | "insert" | "delete" | "replace",
                   "old": "text span", "new": "text span"}, ...]
        },
        "dek": {...},
        "byline": {...},
        "body": {
          "old": "full old body text",
          "new": "full new body text",
          "changed": true,             # some paragraph is not "equal"
          "paragraphs": [
            {"op": "equal" | "insert" | "delete" | "replace",
             "old_index": 0 | null,    # 0-based paragraph index in the old body
             "new_index": 0 | null,    # 0-based paragraph index in the new body
             "old": "paragraph text",  # "" for an inserted paragraph
             "new": "paragraph text",  # "" for a deleted paragraph
             "ops": [{"op": ..., "old": ..., "new": ...}, ...]},
            ...
          ]
        }
      }
    }

Word ops: concatenating every op's "old" rebuilds the old text exactly, and every op's "new"
the new text ("" where a side is absent). Spans keep their trailing whitespace; a word keeps
inner apostrophes ("Editor's"), other punctuation is a token of its own. Paragraphs are the
blocks of the body separated by a blank line, trimmed. "access" and "complete" are additions
beside "fields"; consumers must ignore keys they do not know (new keys do not bump the schema,
changed meanings do).

Change kinds (``KIND_ORDER``, always in that order)
--------------------------------------------------
- headline / dek / byline: the field differs after normalisation (None counts as ""), and the
  difference is not minor.
- lede: the first paragraph (old or new index 0) was edited, added or removed, not minor.
- body: any other paragraph was edited, added or removed, not minor.
- correction: the new body has a paragraph matching ``CORRECTION_LABEL_RE`` (a label such as
  "Correction:", "Korrektur:", "Corrección:" opening the paragraph) or
  ``CORRECTION_PHRASE_RE`` ("An earlier version of this article", "Anmerkung der Redaktion",
  "Rectificatif", "Fe de errores", ...) that the old body does not have. The note itself then
  counts as "correction" only, not as lede/body.
- minor: a change that is only punctuation, letter case or a typo. Typo = at most
  ``MINOR_MAX_CHANGED_WORDS`` (2) words replaced, none added or removed, no digit involved,
  each within ``MINOR_MAX_EDITS_PER_WORD`` (2) character edits and a quarter of the word
  (1 edit always allowed), and either at most 2 edits in all or a character similarity of at
  least ``MINOR_CHAR_SIMILARITY`` (0.97). Paragraphs only split or joined are minor too. When
  every change is minor, kinds is ("minor",); otherwise "minor" may accompany other kinds.
- access: the access level changed (any change, "unknown" included). If either side shows a
  teaser (``complete`` False, access "hard"/"registration", or the body shrank/grew past the
  40 % ratio below), the paragraphs missing or restored at the end of the body and a paragraph
  cut to a prefix of itself are not edits (``_paywall_tail``): a teaser gives ("access",).
- extraction: access unchanged and the new body has fewer than ``EXTRACTION_MAX_WORD_RATIO``
  (40 %) of the old body's words (whitespace-separated), or none: an extractor failure, not
  an edit, so lede/body/minor are not reported for the body. Never together with "access".

Whitespace-only differences (and quote, dash, NFC or invisible-character differences) are
no change at all: kinds () and similarity 1.0. ``similarity`` is 2 * matched tokens / (old
tokens + new tokens) over headline, dek, byline and body, tokens being words and punctuation
marks compared after normalisation, rounded to 4 decimals; paragraphs only re-broken count as
fully matched.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import zlib
from dataclasses import dataclass

__all__ = [
    "ACCESS_LEVELS",
    "KIND_ORDER",
    "SCHEMA",
    "FieldDiff",
    "ParagraphDiff",
    "VersionDiff",
    "VersionFields",
    "WordOp",
    "classify_changes",
    "diff_to_json",
    "diff_versions",
    "is_correction_note",
    "token_opcodes",
]

SCHEMA = "palimpsest.diff/1"
ACCESS_LEVELS = frozenset({"free", "metered", "registration", "hard", "unknown"})
# Access levels that serve a teaser instead of the article.
PAYWALLED_ACCESS = frozenset({"hard", "registration"})
KIND_ORDER = (
    "headline", "dek", "byline", "lede", "body", "correction", "minor", "access", "extraction",
)  # fmt: skip
TEXT_FIELDS = ("headline", "dek", "byline")

# --- Correction and editor's-note markers ------------------------------------------------
# Matched against the normalised, casefolded paragraph (straight quotes, "-" dashes), so the
# patterns are lower case; no re.IGNORECASE, which makes these alternations ~3x slower.
#
# Labels open a note. The bare words also occur in ordinary prose ("Correction officers
# said", "Korrektur der Prognose"), so they only count at the start of a paragraph (after at
# most three marks such as "*", "[" or "(") and followed by ":", "-", "." or the end.
ENGLISH_CORRECTION_LABELS = r"corrections?|clarifications?|editor'?s'? notes?|erratum|errata"
GERMAN_CORRECTION_LABELS = (
    r"korrektur|korrekturhinweis|richtigstellung|berichtigung"
    r"|anmerkung der redaktion|hinweis der redaktion"
)
FRENCH_CORRECTION_LABELS = r"rectificatif|correctif|erratum|pr[eé]cision|note de la r[eé]daction"
SPANISH_CORRECTION_LABELS = (
    r"correcci[oó]n|aclaraci[oó]n|rectificaci[oó]n|fe de errores|fe de erratas"
    r"|nota del editor|nota de la redacci[oó]n"
)
CORRECTION_LABEL_RE = re.compile(
    r"^[^\w\s]{0,3}\s*(?:"
    + "|".join(
        (
            ENGLISH_CORRECTION_LABELS,
            GERMAN_CORRECTION_LABELS,
            FRENCH_CORRECTION_LABELS,
            SPANISH_CORRECTION_LABELS,
        )
    )
    + r")\s*(?:[:.\-]|$)"
)
# Phrases that only ever appear in a note, so they count anywhere in a paragraph.
_ARTICLE_EN = r"(?:article|story|report|post|piece|column|video)"
ENGLISH_CORRECTION_PHRASES = (
    rf"\b(?:an earlier|a previous|an older) version of this {_ARTICLE_EN}"
    rf"|\bthis {_ARTICLE_EN} (?:has been|was|have been) (?:updated|corrected|amended)"
    r"|\beditor'?s'? note\s*:"
    r"|\bwe regret the error\b"
)
GERMAN_CORRECTION_PHRASES = (
    r"\banmerkung der redaktion\b"
    r"|\bin einer (?:früheren|vorherigen|ersten) (?:version|fassung) (?:dieses|des) "
    r"(?:artikels|textes|beitrags)"
    r"|\b(?:dieser|der) (?:artikel|text|beitrag) wurde (?:korrigiert|aktualisiert|berichtigt)"
)
FRENCH_CORRECTION_PHRASES = (
    r"\brectificatif\b"
    r"|\bune (?:précédente|première|ancienne) version de cet article"
    r"|\bcet article a été (?:corrigé|modifié|mis à jour|rectifié)"
)
SPANISH_CORRECTION_PHRASES = (
    r"\bfe de errores\b|\bnota del editor\b"
    r"|\buna versión anterior de (?:este|esta) (?:artículo|nota|noticia|información)"
    r"|\b(?:este|esta) (?:artículo|nota|noticia) (?:ha sido|fue) (?:corregid|actualizad)[oa]"
)
CORRECTION_PHRASE_RE = re.compile(
    "|".join(
        (
            ENGLISH_CORRECTION_PHRASES,
            GERMAN_CORRECTION_PHRASES,
            FRENCH_CORRECTION_PHRASES,
            SPANISH_CORRECTION_PHRASES,
        )
    )
)

# --- Thresholds ---------------------------------------------------------------------------
# A typo fix changes at most this many words, none containing a digit (a changed figure is
# always news), each by at most MINOR_MAX_EDITS_PER_WORD character edits (and at most a
# quarter of the word, but 1 is always allowed), and no word is added or removed.
MINOR_MAX_CHANGED_WORDS = 2
MINOR_MAX_EDITS_PER_WORD = 2
# ... and the field stays this similar character-wise, unless the edits total at most
# MINOR_ALWAYS_OK_EDITS (one typo in a short headline is still a typo).
MINOR_CHAR_SIMILARITY = 0.97
MINOR_ALWAYS_OK_EDITS = 2
# A body that keeps less than this share of its words collapsed (extractor failure).
EXTRACTION_MAX_WORD_RATIO = 0.4
# Paragraph pairing inside a replaced run: word-set similarity needed to diff two paragraphs
# word by word rather than showing a deletion and an insertion.
PAIRING_MIN_SIMILARITY = 0.5
# Containment (shared words / words of the shorter) counts only for paragraphs this long,
# so a teaser cut from a long paragraph still pairs with it.
PAIRING_CONTAINMENT_MIN_WORDS = 8
# Above this many old x new candidate pairs, pair greedily with a short look-ahead.
PAIRING_MAX_CELLS = 2500
PAIRING_LOOKAHEAD = 6
# Word diffs of texts longer than this many tokens are chunked (``_token_opcodes``): segments
# of SEGMENT_MIN..SEGMENT_MAX tokens are aligned first, and a replaced run of segments is diffed
# word by word only up to CHUNK_MAX_CELLS old x new tokens (else shown as one replacement).
CHUNK_MIN_TOKENS = 2000
SEGMENT_MIN_TOKENS = 8
SEGMENT_MAX_TOKENS = 64
CHUNK_MAX_CELLS = 250_000
# Bodies with more paragraphs than this align them with difflib's autojunk, so a paragraph
# repeated thousands of times cannot make the alignment quadratic.
PARAGRAPH_AUTOJUNK_ABOVE = 2000

_NONE, _MINOR, _MAJOR = "none", "minor", "major"

# --- Normalisation and tokens -------------------------------------------------------------
_UNIFY = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
        "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None,
        "\ufeff": None,
    }
)  # fmt: skip
# Combining marks and invisible characters stay inside a word so a decomposed "é" or a soft
# hyphen does not split it into tokens that normalisation would then merge.
_WORD_CHARS = (
    r"\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    r"\u00ad\u200b-\u200d\u2060\ufeff"
)
_APOSTROPHES = r"'\u2018\u2019\u201b\u2032"
_WORD = rf"[{_WORD_CHARS}]+(?:[{_APOSTROPHES}][{_WORD_CHARS}]+)*"
_PUNCT = rf"[^\s{_WORD_CHARS}]"
# A token is a word or one punctuation mark plus the whitespace after it (the first token
# also takes any leading whitespace): joining the tokens gives back the text.
_TOKEN_RE = re.compile(rf"\s*(?:{_WORD}|{_PUNCT})\s*")
_CORE_RE = re.compile(rf"{_WORD}|{_PUNCT}")
_WORDS_RE = re.compile(r"\w+")
_PARAGRAPH_BREAK_RE = re.compile(r"\n\s*\n")
_SENTENCE_ENDS = frozenset({".", "!", "?", ";", "\u3002", "\uff01", "\uff1f"})
# Symbols whose change is a change of meaning ("$5" vs "£5"), kept when punctuation is not.
_MEANINGFUL_SYMBOLS_RE = re.compile(r"\w+|[%°#+<>=$¢£¤¥€₹₽₩₺₴]")


def _prenormalise(text: str) -> str:
    """NFC plus quote/dash unification, skipped for ASCII (the common case, already final)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text).translate(_UNIFY)


def _normalise(text: str | None) -> str:
    """The comparison form of a text: normalised and whitespace collapsed."""
    if not text:
        return ""
    return " ".join(_prenormalise(text).split())


def _tokenize(text: str) -> tuple[list[str], list[str]]:
    """Raw tokens (which rebuild the text) and their comparison keys, one per token."""
    if not text:
        return [], []
    raws = _TOKEN_RE.findall(text)
    if not raws:  # whitespace only: keep it so the text can be rebuilt
        return [text], [""]
    keys = _CORE_RE.findall(_prenormalise(text))
    if len(keys) == len(raws):
        return raws, keys
    # Normalisation removed a whole token (e.g. a lone zero-width space): key per token,
    # folding the key-less ones into their neighbour.
    merged_raws: list[str] = []
    merged_keys: list[str] = []
    pending = ""
    for raw in raws:
        key = _prenormalise(raw.strip())
        if not key:
            if merged_raws:
                merged_raws[-1] += raw
            else:
                pending += raw
            continue
        merged_raws.append(pending + raw)
        merged_keys.append(key)
        pending = ""
    if not merged_raws:
        return [text], [""]
    return merged_raws, merged_keys


def _token_count(keys: list[str]) -> int:
    return len(keys) - keys.count("")


def _split_paragraphs(text: str | None) -> list[str]:
    """Blocks separated by a blank line, trimmed, empty ones dropped."""
    if not text:
        return []
    return [part.strip() for part in _PARAGRAPH_BREAK_RE.split(text) if part.strip()]


def _word_count(text: str | None) -> int:
    """Whitespace-separated words: enough to tell a collapsed body, and cheap."""
    return len((text or "").split())


def _skeleton(normalised: str) -> list[str]:
    """Words (and meaningful symbols) casefolded: punctuation and case no longer count."""
    return _MEANINGFUL_SYMBOLS_RE.findall(normalised.casefold())


def is_correction_note(paragraph: str) -> bool:
    """A correction or editor's note (any of the four languages), wherever it appears."""
    folded = _normalise(paragraph).casefold()
    return bool(CORRECTION_LABEL_RE.search(folded) or CORRECTION_PHRASE_RE.search(folded))


# --- Result types -------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class VersionFields:
    """The user-visible content of one archived version."""

    headline: str | None
    dek: str | None
    byline: str | None
    text: str
    access: str = "unknown"
    complete: bool = True

    def __post_init__(self) -> None:
        if self.access not in ACCESS_LEVELS:
            raise ValueError(f"access must be one of {sorted(ACCESS_LEVELS)}, not {self.access!r}")


@dataclass(frozen=True)
class WordOp:
    """One span of a word diff; "equal" spans match after normalisation."""

    op: str
    old: str
    new: str


@dataclass(frozen=True)
class FieldDiff:
    """A one-line field (headline, dek, byline); ``changed`` ignores normalisation noise."""

    name: str
    old: str | None
    new: str | None
    changed: bool
    ops: tuple[WordOp, ...]


@dataclass(frozen=True)
class ParagraphDiff:
    """One aligned body paragraph; indexes are 0-based, None on the side it is missing from."""

    op: str
    old_index: int | None
    new_index: int | None
    old: str
    new: str
    ops: tuple[WordOp, ...]


@dataclass(frozen=True)
class VersionDiff:
    """Everything a reader needs to see what changed between two versions."""

    fields: tuple[FieldDiff, ...]
    body: tuple[ParagraphDiff, ...]
    kinds: tuple[str, ...]
    similarity: float
    old_text: str = ""
    new_text: str = ""
    old_access: str = "unknown"
    new_access: str = "unknown"
    old_complete: bool = True
    new_complete: bool = True

    @property
    def body_changed(self) -> bool:
        return any(paragraph.op != "equal" for paragraph in self.body)


@dataclass(frozen=True)
class _Counts:
    """Tokens matched and compared, summed into the version similarity."""

    matched: int = 0
    old: int = 0
    new: int = 0

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(self.matched + other.matched, self.old + other.old, self.new + other.new)


# --- Word and paragraph diffs -------------------------------------------------------------
Opcode = tuple[str, int, int, int, int]


def _segments(keys: list[str], start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) token spans cut at sentence ends, else at content-chosen words, bounded.

    The cut points depend on the words, not on positions, so an insertion early in a long
    paragraph does not shift every later segment: the same sentences still match.
    """
    chosen = {key for key in set(keys[start:end]) if zlib.crc32(key.encode("utf-8", "surrogatepass")) % 16 == 0}
    spans: list[tuple[int, int]] = []
    begin = start
    for index in range(start, end):
        key = keys[index]
        length = index + 1 - begin
        if key in _SENTENCE_ENDS or length >= SEGMENT_MAX_TOKENS or (length >= SEGMENT_MIN_TOKENS and key in chosen):
            spans.append((begin, index + 1))
            begin = index + 1
    if begin < end:
        spans.append((begin, end))
    return spans


def _bounded_opcodes(old_keys: list[str], new_keys: list[str], i0: int, i1: int, j0: int, j1: int) -> list[Opcode]:
    """Token opcodes for a replaced run: a word diff when small enough, else one replacement."""
    if i0 == i1 and j0 == j1:
        return []
    if i0 == i1:
        return [("insert", i0, i1, j0, j1)]
    if j0 == j1:
        return [("delete", i0, i1, j0, j1)]
    if (i1 - i0) * (j1 - j0) > CHUNK_MAX_CELLS:
        return [("replace", i0, i1, j0, j1)]
    matcher = difflib.SequenceMatcher(None, old_keys[i0:i1], new_keys[j0:j1], autojunk=False)
    return [(tag, a1 + i0, a2 + i0, b1 + j0, b2 + j0) for tag, a1, a2, b1, b2 in matcher.get_opcodes()]


def _merged(opcodes: list[Opcode]) -> list[Opcode]:
    """Neighbouring opcodes of one kind joined (a replacement absorbs touching inserts/deletes)."""
    merged: list[Opcode] = []
    for opcode in opcodes:
        if opcode[1] == opcode[2] and opcode[3] == opcode[4]:
            continue
        if merged:
            tag, i1, _i2, j1, _j2 = merged[-1]
            same = tag == opcode[0] or (tag != "equal" and opcode[0] != "equal")
            if same:
                merged[-1] = (tag if tag == opcode[0] else "replace", i1, opcode[2], j1, opcode[4])
                continue
        merged.append(opcode)
    return merged


def token_opcodes(old_keys: list[str], new_keys: list[str]) -> list[Opcode]:
    """difflib-style opcodes between two token lists, in near-linear time for long texts.

    Short texts get difflib's word diff as it is. Long ones (a transcript or a live blog
    extracted as one paragraph) would take quadratic time that way: their common ends are
    trimmed, the middles cut into sentences and bounded segments, the segments aligned, and
    only the replaced runs of segments, when small, are diffed word by word.
    """
    if len(old_keys) <= CHUNK_MIN_TOKENS and len(new_keys) <= CHUNK_MIN_TOKENS:
        return difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes()
    head, limit = 0, min(len(old_keys), len(new_keys))
    while head < limit and old_keys[head] == new_keys[head]:
        head += 1
    tail = 0
    while tail < limit - head and old_keys[-1 - tail] == new_keys[-1 - tail]:
        tail += 1
    old_end, new_end = len(old_keys) - tail, len(new_keys) - tail
    opcodes: list[Opcode] = [("equal", 0, head, 0, head)]
    old_spans, new_spans = _segments(old_keys, head, old_end), _segments(new_keys, head, new_end)
    old_segments = ["\x00".join(old_keys[a:b]) for a, b in old_spans]
    new_segments = ["\x00".join(new_keys[a:b]) for a, b in new_spans]
    # autojunk: a segment repeated all over (a chant, a table of "Yes.") cannot anchor the
    # alignment, which keeps hostile repetition from making it quadratic again.
    matcher = difflib.SequenceMatcher(None, old_segments, new_segments, autojunk=True)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        i0 = old_spans[a1][0] if a1 < a2 else (old_spans[a1][0] if a1 < len(old_spans) else old_end)
        i1 = old_spans[a2 - 1][1] if a1 < a2 else i0
        j0 = new_spans[b1][0] if b1 < b2 else (new_spans[b1][0] if b1 < len(new_spans) else new_end)
        j1 = new_spans[b2 - 1][1] if b1 < b2 else j0
        if tag == "equal":
            opcodes.append(("equal", i0, i1, j0, j1))
        else:
            opcodes.extend(_bounded_opcodes(old_keys, new_keys, i0, i1, j0, j1))
    opcodes.append(("equal", old_end, len(old_keys), new_end, len(new_keys)))
    return _merged(opcodes)


def _word_diff(old: str, new: str) -> tuple[tuple[WordOp, ...], _Counts]:
    """Word ops between two texts, and the token counts behind their similarity."""
    old_raws, old_keys = _tokenize(old)
    new_raws, new_keys = _tokenize(new)
    old_count, new_count = _token_count(old_keys), _token_count(new_keys)
    if old_keys == new_keys:
        ops = (WordOp("equal", old, new),) if old_raws else ()
        return ops, _Counts(old_count, old_count, new_count)
    ops = []
    matched = 0
    for tag, i1, i2, j1, j2 in token_opcodes(old_keys, new_keys):
        ops.append(WordOp(tag, "".join(old_raws[i1:i2]), "".join(new_raws[j1:j2])))
        if tag == "equal":
            matched += _token_count(old_keys[i1:i2])
    return tuple(ops), _Counts(matched, old_count, new_count)


def _word_set(normalised: str) -> frozenset[str]:
    return frozenset(_WORDS_RE.findall(normalised.casefold()))


def _pairing_similarity(old_words: frozenset[str], new_words: frozenset[str]) -> float:
    """Cheap paragraph likeness: Dice over word sets, or containment for a cut paragraph."""
    if not old_words or not new_words:
        return 0.0
    common = len(old_words & new_words)
    dice = 2 * common / (len(old_words) + len(new_words))
    shorter = min(len(old_words), len(new_words))
    if shorter >= PAIRING_CONTAINMENT_MIN_WORDS:
        return max(dice, common / shorter)
    return dice


def _pair_paragraphs(old_keys: list[str], new_keys: list[str]) -> list[tuple[int, int]]:
    """Order-preserving pairs of similar paragraphs in a replaced run (indexes into the run).

    Maximises total similarity (dynamic programming) for runs up to PAIRING_MAX_CELLS pairs,
    greedy with a short look-ahead beyond, so the cost stays bounded. A correction note is
    never paired with ordinary text: it is news of its own.
    """
    old_sets = [_word_set(key) for key in old_keys]
    new_sets = [_word_set(key) for key in new_keys]
    old_notes: dict[int, bool] = {}
    new_notes: dict[int, bool] = {}

    def similarity(i: int, j: int) -> float:
        score = _pairing_similarity(old_sets[i], new_sets[j])
        if score < PAIRING_MIN_SIMILARITY:
            return score
        if i not in old_notes:  # the note check is the costly part: only for candidates
            old_notes[i] = is_correction_note(old_keys[i])
        if j not in new_notes:
            new_notes[j] = is_correction_note(new_keys[j])
        return score if old_notes[i] == new_notes[j] else 0.0

    n, m = len(old_keys), len(new_keys)
    if n * m > PAIRING_MAX_CELLS:
        pairs: list[tuple[int, int]] = []
        next_j = 0
        for i in range(n):
            candidates = range(next_j, min(m, next_j + PAIRING_LOOKAHEAD))
            scored = [(similarity(i, j), -j) for j in candidates]
            if scored:
                best, neg_j = max(scored)
                if best >= PAIRING_MIN_SIMILARITY:
                    pairs.append((i, -neg_j))
                    next_j = -neg_j + 1
        return pairs

    sims = [[similarity(i, j) for j in range(m)] for i in range(n)]
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        row, above, sim_row = score[i], score[i - 1], sims[i - 1]
        for j in range(1, m + 1):
            best = above[j] if above[j] >= row[j - 1] else row[j - 1]
            s = sim_row[j - 1]
            if s >= PAIRING_MIN_SIMILARITY and above[j - 1] + s > best:
                best = above[j - 1] + s
            row[j] = best
    pairs = []
    i, j = n, m
    while i > 0 and j > 0:
        s = sims[i - 1][j - 1]
        if s >= PAIRING_MIN_SIMILARITY and score[i][j] == score[i - 1][j - 1] + s:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif score[i - 1][j] >= score[i][j - 1]:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    return pairs


def _diff_body(old_text: str, new_text: str) -> tuple[tuple[ParagraphDiff, ...], _Counts]:
    """Align paragraphs, then word-diff the edited ones."""
    old_paras, new_paras = _split_paragraphs(old_text), _split_paragraphs(new_text)
    old_keys = [_normalise(p) for p in old_paras]
    new_keys = [_normalise(p) for p in new_paras]
    result: list[ParagraphDiff] = []
    counts = _Counts()

    def equal(i: int, j: int) -> None:
        nonlocal counts
        old, new = old_paras[i], new_paras[j]
        if old == new:
            n = len(_CORE_RE.findall(old_keys[i]))
            ops: tuple[WordOp, ...] = (WordOp("equal", old, new),)
            counts += _Counts(n, n, n)
        else:  # same after normalisation; still keep both raw texts
            ops, pair_counts = _word_diff(old, new)
            counts += pair_counts
        result.append(ParagraphDiff("equal", i, j, old, new, ops))

    def delete(i: int) -> None:
        nonlocal counts
        counts += _Counts(0, len(_CORE_RE.findall(old_keys[i])), 0)
        result.append(ParagraphDiff("delete", i, None, old_paras[i], "", (WordOp("delete", old_paras[i], ""),)))

    def insert(j: int) -> None:
        nonlocal counts
        counts += _Counts(0, 0, len(_CORE_RE.findall(new_keys[j])))
        result.append(ParagraphDiff("insert", None, j, "", new_paras[j], (WordOp("insert", "", new_paras[j]),)))

    def replace(i: int, j: int) -> None:
        nonlocal counts
        ops, pair_counts = _word_diff(old_paras[i], new_paras[j])
        counts += pair_counts
        result.append(ParagraphDiff("replace", i, j, old_paras[i], new_paras[j], ops))

    many = max(len(old_keys), len(new_keys)) > PARAGRAPH_AUTOJUNK_ABOVE
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=many)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                equal(i1 + offset, j1 + offset)
        elif tag == "delete":
            for i in range(i1, i2):
                delete(i)
        elif tag == "insert":
            for j in range(j1, j2):
                insert(j)
        else:
            counts_before = counts
            next_i, next_j = i1, j1
            for pi, pj in _pair_paragraphs(old_keys[i1:i2], new_keys[j1:j2]):
                for i in range(next_i, i1 + pi):
                    delete(i)
                for j in range(next_j, j1 + pj):
                    insert(j)
                replace(i1 + pi, j1 + pj)
                next_i, next_j = i1 + pi + 1, j1 + pj + 1
            for i in range(next_i, i2):
                delete(i)
            for j in range(next_j, j2):
                insert(j)
            joined = " ".join(old_keys[i1:i2])
            if joined == " ".join(new_keys[j1:j2]):
                # Only the paragraph breaks moved: every word is still there, in order.
                n = len(_CORE_RE.findall(joined))
                counts = counts_before + _Counts(n, n, n)
    return tuple(result), counts


# --- Classification -----------------------------------------------------------------------
def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of neighbours is one edit), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def _is_minor_change(old_normalised: str, new_normalised: str) -> bool:
    """Only punctuation, letter case or a typo or two: nothing a reader would call an edit."""
    old_words, new_words = _skeleton(old_normalised), _skeleton(new_normalised)
    if old_words == new_words:
        return True  # punctuation, case or whitespace only
    if not old_words or not new_words:
        return False
    # Cheap bounds before aligning: a typo fix keeps the word count within a word or two
    # (a split word) and swaps at most a couple of distinct words.
    if abs(len(old_words) - len(new_words)) > MINOR_MAX_CHANGED_WORDS:
        return False
    if len(set(old_words).symmetric_difference(new_words)) > 2 * MINOR_MAX_CHANGED_WORDS:
        return False
    changed_words = 0
    edits = 0
    for tag, i1, i2, j1, j2 in token_opcodes(old_words, new_words):
        if tag == "equal":
            continue
        if tag != "replace":  # a word added or removed changes what is said
            return False
        changed_words += max(i2 - i1, j2 - j1)
        if changed_words > MINOR_MAX_CHANGED_WORDS:
            return False
        old_span, new_span = "".join(old_words[i1:i2]), "".join(new_words[j1:j2])
        if any(ch.isdigit() for ch in old_span + new_span):
            return False
        allowed = min(MINOR_MAX_EDITS_PER_WORD, max(1, max(len(old_span), len(new_span)) // 4))
        distance = _edit_distance(old_span, new_span, allowed)
        if distance > allowed:
            return False
        edits += distance
    char_similarity = 1 - edits / max(len(old_normalised), len(new_normalised))
    return edits <= MINOR_ALWAYS_OK_EDITS or char_similarity >= MINOR_CHAR_SIMILARITY


def _change_level(old: str | None, new: str | None) -> str:
    old_normalised, new_normalised = _normalise(old), _normalise(new)
    if old_normalised == new_normalised:
        return _NONE
    return _MINOR if _is_minor_change(old_normalised, new_normalised) else _MAJOR


def _shows_teaser(version: VersionFields) -> bool:
    return not version.complete or version.access in PAYWALLED_ACCESS


def _is_prefix_like(old: str, new: str) -> bool:
    """One paragraph is the start of the other (a teaser cut, maybe mid-word or with "…")."""
    a, b = _skeleton(_normalise(old)), _skeleton(_normalise(new))
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    if not shorter:
        return False
    cut = len(shorter) - 1
    return shorter[:cut] == longer[:cut] and longer[cut].startswith(shorter[cut])


def _paywall_tail(body: tuple[ParagraphDiff, ...], *, old_teaser: bool, new_teaser: bool) -> set[int]:
    """Positions of the trailing paragraphs a teaser lacks (or a restored text regained).

    Walking back from the end: added or removed paragraphs (the hidden text, a "subscribe"
    prompt) and paragraphs cut to a prefix, up to the first kept paragraph that is intact or
    really edited. Empty unless the teaser side really lacks text there: a paragraph merely
    appended to a full text stays an edit.
    """
    tail: list[int] = []
    for position in range(len(body) - 1, -1, -1):
        paragraph = body[position]
        if paragraph.op in ("insert", "delete") or (
            paragraph.op == "replace" and _is_prefix_like(paragraph.old, paragraph.new)
        ):
            tail.append(position)
        else:
            break

    def lacks_text(paragraph: ParagraphDiff) -> bool:
        if paragraph.op == "delete":
            return new_teaser
        if paragraph.op == "insert":
            return old_teaser
        return True  # cut to a prefix

    return set(tail) if any(lacks_text(body[position]) for position in tail) else set()


def _body_kinds(body: tuple[ParagraphDiff, ...], ignored: set[int]) -> set[str]:
    """lede / body / correction / minor for the body, judged per run of changed paragraphs."""
    kinds: set[str] = set()

    def is_new_note(paragraph: ParagraphDiff) -> bool:
        if paragraph.op not in ("insert", "replace") or not is_correction_note(paragraph.new):
            return False
        # The same note anywhere in the old body: it moved, it is not new.
        folded = _normalise(paragraph.new).casefold()
        if any(_normalise(p.old).casefold() == folded for p in body if p.old):
            return False
        # A touched-up existing note is an ordinary (minor) edit, not a new correction.
        return not (
            paragraph.op == "replace"
            and is_correction_note(paragraph.old)
            and _change_level(paragraph.old, paragraph.new) != _MAJOR
        )

    position = 0
    while position < len(body):
        if body[position].op == "equal":
            position += 1
            continue
        run: list[ParagraphDiff] = []
        while position < len(body) and body[position].op != "equal":
            paragraph = body[position]
            if is_new_note(paragraph):  # even in a paywall tail: a note is always news
                kinds.add("correction")
            elif position not in ignored:
                run.append(paragraph)
            position += 1
        if not run:
            continue
        # Judged as a whole first: split or joined paragraphs with the same words are minor.
        joined_old = "\n\n".join(p.old for p in run if p.old)
        joined_new = "\n\n".join(p.new for p in run if p.new)
        run_level = _change_level(joined_old, joined_new)
        if run_level != _MAJOR:
            kinds.add("minor")
            continue
        for paragraph in run:
            if len(run) == 1 and paragraph.op == "replace":
                level = run_level  # already judged: the run is this paragraph
            elif paragraph.op == "replace":
                level = _change_level(paragraph.old, paragraph.new)
            else:  # a whole paragraph added or removed; a separator like "***" is minor
                level = _MAJOR if _WORDS_RE.search(paragraph.old or paragraph.new) else _MINOR
            if level == _MINOR:
                kinds.add("minor")
            elif level == _MAJOR:
                kinds.add("lede" if 0 in (paragraph.old_index, paragraph.new_index) else "body")
    return kinds


def _classify(
    old: VersionFields,
    new: VersionFields,
    fields: tuple[FieldDiff, ...],
    body: tuple[ParagraphDiff, ...],
) -> tuple[str, ...]:
    kinds: set[str] = set()
    for field_diff in fields:
        level = _change_level(field_diff.old, field_diff.new)
        if level == _MAJOR:
            kinds.add(field_diff.name)
        elif level == _MINOR:
            kinds.add("minor")

    access_changed = old.access != new.access
    old_words, new_words = _word_count(old.text), _word_count(new.text)
    collapsed = old_words > 0 and new_words < EXTRACTION_MAX_WORD_RATIO * old_words
    restored = new_words > 0 and old_words < EXTRACTION_MAX_WORD_RATIO * new_words
    ignored: set[int] = set()
    if access_changed:  # a paywall moved: the text a teaser lacks was not edited away
        ignored = _paywall_tail(
            body,
            old_teaser=_shows_teaser(old) or restored,
            new_teaser=_shows_teaser(new) or collapsed,
        )
    body_kinds = _body_kinds(body, ignored)
    if access_changed:
        kinds.add("access")
    elif collapsed:
        kinds.add("extraction")
        body_kinds -= {"lede", "body", "minor"}  # the extractor failed; nobody edited
    kinds |= body_kinds
    return tuple(kind for kind in KIND_ORDER if kind in kinds)


# --- Public API ---------------------------------------------------------------------------
def diff_versions(old: VersionFields, new: VersionFields) -> VersionDiff:
    """Word-level diff of every field, body grouped by paragraph, with kinds and similarity."""
    counts = _Counts()
    fields: list[FieldDiff] = []
    for name in TEXT_FIELDS:
        old_value, new_value = getattr(old, name), getattr(new, name)
        ops, field_counts = _word_diff(old_value or "", new_value or "")
        counts += field_counts
        changed = _normalise(old_value) != _normalise(new_value)
        fields.append(FieldDiff(name, old_value, new_value, changed, ops))
    body, body_counts = _diff_body(old.text or "", new.text or "")
    counts += body_counts
    total = counts.old + counts.new
    similarity = round(2 * counts.matched / total, 4) if total else 1.0
    field_tuple = tuple(fields)
    return VersionDiff(
        fields=field_tuple,
        body=body,
        kinds=_classify(old, new, field_tuple, body),
        similarity=similarity,
        old_text=old.text or "",
        new_text=new.text or "",
        old_access=old.access,
        new_access=new.access,
        old_complete=old.complete,
        new_complete=new.complete,
    )


def classify_changes(old: VersionFields, new: VersionFields) -> tuple[tuple[str, ...], float]:
    """(kinds, similarity): the same answer ``diff_versions`` puts in its result."""
    diff = diff_versions(old, new)
    return diff.kinds, diff.similarity


def _ops_to_json(ops: tuple[WordOp, ...]) -> list[dict[str, str]]:
    return [{"op": op.op, "old": op.old, "new": op.new} for op in ops]


def diff_to_json(diff: VersionDiff) -> dict:
    """The "palimpsest.diff/1" structure described in the module docstring."""
    fields: dict[str, dict] = {
        f.name: {"old": f.old, "new": f.new, "changed": f.changed, "ops": _ops_to_json(f.ops)} for f in diff.fields
    }
    fields["body"] = {
        "old": diff.old_text,
        "new": diff.new_text,
        "changed": diff.body_changed,
        "paragraphs": [
            {
                "op": p.op,
                "old_index": p.old_index,
                "new_index": p.new_index,
                "old": p.old,
                "new": p.new,
                "ops": _ops_to_json(p.ops),
            }
            for p in diff.body
        ],
    }
    return {
        "schema": SCHEMA,
        "kinds": list(diff.kinds),
        "similarity": diff.similarity,
        "access": {
            "old": diff.old_access,
            "new": diff.new_access,
            "changed": diff.old_access != diff.new_access,
        },
        "complete": {
            "old": diff.old_complete,
            "new": diff.new_complete,
            "changed": diff.old_complete != diff.new_complete,
        },
        "fields": fields,
    }
