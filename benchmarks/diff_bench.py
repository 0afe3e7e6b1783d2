"""How long ``storage.diffing.diff_versions`` takes on a long article with typical edits.

The pair is synthetic and deterministic (``random.Random(0)``): a body of ``words`` words in
100-word paragraphs; the new version edits every fifth paragraph (a few words replaced),
inserts two paragraphs and deletes two, and rewrites the headline.

``measure_long_diff`` times one long single paragraph (a transcript, a court filing, a live
blog extracted as one block) with a word replaced every 500, at growing sizes, against a bare
baseline measured in the same run: tokenising both texts with the diff's own token regex,
which any word diff must do. A near-linear diff keeps the ratio flat as the size grows. Run:

    python benchmarks/diff_bench.py [--long 10000,100000,1000000]
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


def make_long_pair(words: int, seed: int = 0) -> tuple[VersionFields, VersionFields]:
    """One paragraph of ``words`` words in 12-word sentences; the new one replaces 1 word in 500."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(3000)]
    vocabulary += ["the", "of", "and", "to", "a", "in", "that", "said", "is", "for"] * 30
    old = [rng.choice(vocabulary) for _ in range(words)]
    for position in range(11, words, 12):
        old[position] += "."
    new = list(old)
    for _ in range(max(1, words // 500)):
        new[rng.randrange(words)] = rng.choice(vocabulary)

    def version(text: list[str]) -> VersionFields:
        return VersionFields(headline="Transcript", dek=None, byline=None, text=" ".join(text))

    return version(old), version(new)


def measure_long_diff(sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)) -> list[dict]:
    """Seconds for ``diff_versions`` on one long paragraph, and the ratio to tokenising it."""
    from palimpsest.storage.diffing import _TOKEN_RE

    rows = []
    for words in sizes:
        old, new = make_long_pair(words)
        start = time.perf_counter()
        _TOKEN_RE.findall(old.text)
        _TOKEN_RE.findall(new.text)
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        diff = diff_versions(old, new)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "words": words,
                "diff_s": round(seconds, 3),
                "tokenise_s": round(baseline, 3),
                "ratio": round(seconds / baseline, 1),
                "kinds": list(diff.kinds),
            }
        )
    return rows


if __name__ == "__main__":
    import sys

    print(measure_diff())
    if len(sys.argv) > 2 and sys.argv[1] == "--long":
        for row in measure_long_diff(tuple(int(size) for size in sys.argv[2].split(","))):
            print(row)
