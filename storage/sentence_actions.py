"""Sentence-level edit actions between two versions of a body, as NewsEdits describes them (pure).

NewsEdits (Spangher et al., NAACL 2022) describes a revision as sentence actions: an
*addition*, a *deletion*, an *edit* (the same sentence reworded; here with its word diff) and
a *refactor* (the same sentence moved). Matching, in order: sentences equal after
normalisation that keep their order (the longest common subsequence) are unchanged; an equal
sentence found elsewhere is a refactor; the rest are paired by word overlap (at least
``EDIT_MIN_SIMILARITY``, best pairs first) as edits; what is left was added or deleted.
Positions are 0-based sentence indexes over the whole body.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from palimpsest.storage.diffing import token_opcodes
from palimpsest.storage.sentences import split_sentences
from palimpsest.storage.versioning import normalise_line

ACTIONS = ("addition", "deletion", "edit", "refactor")
# Word-set similarity (Dice) at or above which an unmatched old and new sentence are one edited sentence.
EDIT_MIN_SIMILARITY = 0.5
# Bounds on the edit pairing (see _candidate_pairs).
MAX_PAIRS = 250_000
PAIR_WINDOW = 50
MAX_ALIGNED_SENTENCES = 2000
_TOKENS = re.compile(r"\w+|[^\w\s]")
_WORD_SPANS = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class SentenceAction:
    action: str
    old_index: int | None
    new_index: int | None
    old_sentence: str | None
    new_sentence: str | None
    word_diff: tuple[tuple[str, str, str], ...] = ()  # edits only: (op, old words, new words)

    def as_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "old_index": self.old_index,
            "new_index": self.new_index,
            "old_sentence": self.old_sentence,
            "new_sentence": self.new_sentence,
            "word_diff": [{"op": op, "old": old, "new": new} for op, old, new in self.word_diff],
        }


def _key(sentence: str) -> str:
    return normalise_line(sentence).casefold()


def _words(sentence: str) -> frozenset[str]:
    return frozenset(token for token in _TOKENS.findall(_key(sentence)) if token.isalnum())


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0


def word_diff(old: str, new: str) -> tuple[tuple[str, str, str], ...]:
    """Word spans of an edited sentence: ("equal"|"replace"|"delete"|"insert", old, new)."""
    old_spans, new_spans = _WORD_SPANS.findall(old), _WORD_SPANS.findall(new)
    old_keys = [normalise_line(span).casefold() for span in old_spans]
    new_keys = [normalise_line(span).casefold() for span in new_spans]
    # Bounded like the version diff: a "sentence" can be a whole unpunctuated transcript.
    return tuple(
        (tag, "".join(old_spans[i1:i2]).strip(), "".join(new_spans[j1:j2]).strip())
        for tag, i1, i2, j1, j2 in token_opcodes(old_keys, new_keys)
    )


def _candidate_pairs(left_old: list[int], left_new: list[int]) -> Iterator[tuple[int, int]]:
    """Every (old, new) pair of unmatched sentences; for a body rewritten wholesale (more than
    ``MAX_PAIRS`` pairs) only those within ``PAIR_WINDOW`` places of each other in the
    unmatched lists, so the work stays linear in the text's length."""
    if len(left_old) * len(left_new) <= MAX_PAIRS:
        yield from ((i, j) for i in left_old for j in left_new)
        return
    for rank, i in enumerate(left_old):
        yield from ((i, j) for j in left_new[max(0, rank - PAIR_WINDOW) : rank + PAIR_WINDOW + 1])


def sentence_actions(old_text: str | None, new_text: str | None) -> list[SentenceAction]:
    """The actions that turn ``old_text`` into ``new_text``, ordered by position (new, then old)."""
    old, new = split_sentences(old_text), split_sentences(new_text)
    old_keys, new_keys = [_key(s) for s in old], [_key(s) for s in new]
    # autojunk for very long texts: a sentence repeated thousands of times ("Yes.") cannot make
    # the alignment quadratic (such sentences are then matched as edits, not kept).
    many = max(len(old_keys), len(new_keys)) > MAX_ALIGNED_SENTENCES
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=many)
    kept_old: set[int] = set()
    kept_new: set[int] = set()
    for block in matcher.get_matching_blocks():
        kept_old.update(range(block.a, block.a + block.size))
        kept_new.update(range(block.b, block.b + block.size))
    left_old = [i for i in range(len(old)) if i not in kept_old]
    left_new = [j for j in range(len(new)) if j not in kept_new]
    actions: list[SentenceAction] = []

    # Moved: the same sentence, out of order.
    waiting: dict[str, list[int]] = {}
    for j in left_new:
        waiting.setdefault(new_keys[j], []).append(j)
    for i in list(left_old):
        targets = waiting.get(old_keys[i])
        if targets:
            j = targets.pop(0)
            actions.append(SentenceAction("refactor", i, j, old[i], new[j]))
            left_old.remove(i)
            left_new.remove(j)

    # Edited: the best-overlapping pairs first.
    old_words = {i: _words(old[i]) for i in left_old}
    new_words = {j: _words(new[j]) for j in left_new}
    pairs = sorted(
        (
            (score, i, j)
            for i, j in _candidate_pairs(left_old, left_new)
            if (score := _similarity(old_words[i], new_words[j])) >= EDIT_MIN_SIMILARITY
        ),
        key=lambda item: (-item[0], abs(item[1] - item[2]), item[1]),
    )
    paired_old: set[int] = set()
    paired_new: set[int] = set()
    for _score, i, j in pairs:
        if i in paired_old or j in paired_new:
            continue
        paired_old.add(i)
        paired_new.add(j)
        actions.append(SentenceAction("edit", i, j, old[i], new[j], word_diff(old[i], new[j])))

    actions += [SentenceAction("deletion", i, None, old[i], None) for i in left_old if i not in paired_old]
    actions += [SentenceAction("addition", None, j, None, new[j]) for j in left_new if j not in paired_new]
    return sorted(
        actions,
        key=lambda a: (a.new_index if a.new_index is not None else -1, a.old_index if a.old_index is not None else -1),
    )
