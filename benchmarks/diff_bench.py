"""How long ``storage.diffing.diff_versions`` takes on a long article with typical edits.

The pair is synthetic and deterministic (``random.Random(0)``): a body of ``words`` words in
100-word paragraphs; the new version edits every fifth paragraph (a few words replaced),
inserts two paragraphs and deletes two, and rewrites the headline. Run:

    python benchmarks/diff_bench.py
"""

from __future__ import annotations

import random
import statistics
import time

from palimpsest.storage.diffing import VersionFields, diff_versions

PARAGRAPH_WORDS = 100


def _sentence_words(rng: random.Random, vocabulary: list[str], count: int) -> list[str]:
    words = [rng.choice(vocabulary) for _ in range(count)]
    words[0] = words[0].capitalize()
    for position in range(11, count, 12):  # sentence breaks, commas: realistic tokens
        words[position] += rng.choice([".", ",", ";"])
    words[-1] += "."
    return words


def make_pair(words: int = 5000, seed: int = 0) -> tuple[VersionFields, VersionFields]:
    """An old/new version pair: ~10 edited paragraphs, 2 inserted, 2 deleted (per 50)."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(3000)]
    vocabulary += ["the", "of", "and", "to", "a", "in", "that", "said", "is", "for"] * 30
    count = max(1, words // PARAGRAPH_WORDS)
    old_paragraphs = [_sentence_words(rng, vocabulary, PARAGRAPH_WORDS) for _ in range(count)]

    new_paragraphs: list[list[str]] = []
    for index, paragraph in enumerate(old_paragraphs):
        if index in (count // 3, 2 * count // 3):
            continue  # two deletions
        edited = list(paragraph)
        if index % 5 == 2:  # ten edits: a few words replaced, one inserted
            for _ in range(3):
                edited[rng.randrange(len(edited))] = rng.choice(vocabulary)
            edited.insert(rng.randrange(len(edited)), rng.choice(vocabulary))
        new_paragraphs.append(edited)
        if index in (count // 4, 3 * count // 4):  # two insertions
            new_paragraphs.append(_sentence_words(rng, vocabulary, PARAGRAPH_WORDS))

    def body(paragraphs: list[list[str]]) -> str:
        return "\n\n".join(" ".join(paragraph) for paragraph in paragraphs)

    old = VersionFields(
        headline="Council approves the new budget after a long night",
        dek="The vote followed weeks of debate.",
        byline="By A. Reporter",
        text=body(old_paragraphs),
        access="metered",
    )
    new = VersionFields(
        headline="Council narrowly approves budget after all-night session",
        dek="The vote followed weeks of debate.",
        byline="By A. Reporter",
        text=body(new_paragraphs),
        access="metered",
    )
    return old, new


def measure_diff(words: int = 5000, repeat: int = 20) -> dict:
    """Median and worst wall time of ``diff_versions`` on the synthetic pair, in ms."""
    old, new = make_pair(words)
    diff_versions(old, new)  # warm up regex caches
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        diff_versions(old, new)
        timings.append((time.perf_counter() - start) * 1000)
    return {
        "words": words,
        "median_ms": round(statistics.median(timings), 3),
        "max_ms": round(max(timings), 3),
    }


if __name__ == "__main__":
    print(measure_diff())
