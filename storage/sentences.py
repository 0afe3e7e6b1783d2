"""A sentence splitter for news text in English, German, French and Spanish (pure).

Sentence-level edit actions (storage.sentence_actions) are only as good as the boundaries: a
split after "Mr." or "z. B." or inside a quotation turns one edited sentence into three
actions. Rules, in order: a paragraph always ends a sentence; a sentence ends at ".", "!",
"?" or "…" (closing quotes and brackets go with it) followed by a space and a capital, a
digit or an opening quote/¿/¡; except after a known abbreviation, a single-letter initial
("J. R. Smith"), or a day number before a month ("3. Oktober", German and Spanish ordinals).
"""

from __future__ import annotations

import re

from palimpsest.storage.versioning import split_paragraphs

# Lower-cased, without the final dot. Titles, months, common Latin and newsroom shorthand.
_ABBREVIATION_WORDS = """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep rev hon pres supt insp
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    inc ltd co corp bros vol pp fig approx est dept univ ave blvd rd etc vs cf ca al
    e.g i.e u.s u.k u.n a.m p.m d.c
    hr fr frau herr bzw z.b u.a d.h usw ggf evtl inkl zzgl vgl nr str abs dipl ing mio mrd bzw jh
    m mme mlle mm me mgr pr av bd p.ex cie env
    sra sres srta dña dn lic ud uds avda pág núm p.ej admón
    """
_MONTH_WORDS = """
    january february march april may june july august september october november december
    januar februar märz mai juni juli oktober dezember
    janvier février mars avril juin juillet août septembre octobre novembre décembre
    enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
    """

ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
MONTHS = frozenset(_MONTH_WORDS.split())

_CLOSERS = "\"'”’»)]"
_OPENERS = "\"'“‘«„(¿¡["
# A candidate end: terminal punctuation, closing quotes/brackets, whitespace, then what starts
# a sentence. The lookahead keeps the next sentence's first character.
_BOUNDARY = re.compile(rf"([.!?…]+[{re.escape(_CLOSERS)}]*)\s+(?=[{re.escape(_OPENERS)}\d\w])")
_LAST_TOKEN = re.compile(r"(\S+)$")


def _starts_sentence(text: str) -> bool:
    first = text.lstrip(_OPENERS)[:1]
    return bool(first) and (first.isupper() or first.isdigit() or text[:1] in _OPENERS)


def _is_abbreviation(before: str, punctuation: str, after: str) -> bool:
    if not punctuation.startswith(".") or punctuation.rstrip(_CLOSERS) != ".":
        return False
    match = _LAST_TOKEN.search(before)
    if match is None:
        return False
    token = match.group(1).lstrip(_OPENERS).lower()
    if token in ABBREVIATIONS:
        return True
    if token in ("no", "nos") and after[:1].isdigit():  # "No. 5" (Spanish "no" is a word)
        return True
    if len(token) == 1 and token.isalpha():  # an initial: "J. R. Smith"
        return True
    if token.isdigit() and len(token) <= 2:  # "am 3. Oktober", "el 1. de mayo" (no split)
        next_word = after.split(maxsplit=1)[0].strip(",.").lower() if after.split() else ""
        return next_word in MONTHS or next_word in ("de",)
    return False


def split_sentences_in_paragraph(paragraph: str) -> list[str]:
    """Sentences of one paragraph, stripped; the paragraph whole when it has one."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.end(1)
        after = paragraph[match.end() :]
        if not _starts_sentence(after):
            continue
        if _is_abbreviation(paragraph[start : match.start(1)], match.group(1), after):
            continue
        sentence = paragraph[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def split_sentences(text: str | None) -> list[str]:
    """Every sentence of a stored body, paragraph by paragraph, in order."""
    return [s for paragraph in split_paragraphs(text) for s in split_sentences_in_paragraph(paragraph)]
