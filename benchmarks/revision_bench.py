"""What sentence actions add to storing a new version: ``storage.sentence_actions`` against
``storage.diffing.diff_versions`` (which every new version already runs) on the same pair.

The pair is diff_bench's (a ``words``-word body with ~10 edited paragraphs, 2 inserted, 2
deleted); the figure that matters is the ratio, measured in the same run. Run:

    python benchmarks/revision_bench.py [--words 5000]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from benchmarks.diff_bench import make_pair
from palimpsest.storage.diffing import VersionFields, diff_versions
from palimpsest.storage.sentence_actions import sentence_actions
from palimpsest.storage.sentences import split_sentences

_AFTER_STOP = re.compile(r"(\. )(\w)")


def _median_seconds(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _capitalised(fields: VersionFields) -> VersionFields:
    """diff_bench's words are lower case; a capital after each full stop makes its sentences."""
    return replace(fields, text=_AFTER_STOP.sub(lambda m: m.group(1) + m.group(2).upper(), fields.text))


def measure_revisions(words: int = 5000, repeat: int = 5) -> dict[str, float]:
    old, new = map(_capitalised, make_pair(words))
    diff = _median_seconds(lambda: diff_versions(old, new), repeat)
    actions = _median_seconds(lambda: sentence_actions(old.text, new.text), repeat)
    split = _median_seconds(lambda: split_sentences(old.text), repeat)
    return {
        "words": words,
        "sentences": len(split_sentences(old.text)),
        "actions": len(sentence_actions(old.text, new.text)),
        "diff_versions_ms": diff * 1000,
        "sentence_actions_ms": actions * 1000,
        "split_sentences_ms": split * 1000,
        "actions_to_diff_ratio": actions / diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=5000)
    args = parser.parse_args()
    for words in sorted({800, args.words}):
        result = measure_revisions(words)
        print(
            f"{result['words']:>6} words, {result['sentences']} sentences, {result['actions']} actions: "
            f"diff_versions {result['diff_versions_ms']:.1f} ms (baseline), "
            f"sentence_actions {result['sentence_actions_ms']:.1f} ms "
            f"= {result['actions_to_diff_ratio']:.2f}x the diff; splitting alone {result['split_sentences_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()
