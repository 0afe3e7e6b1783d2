"""Two first crawls on a new SQLite place (issue 20): the second waits for the first's
migration instead of failing "database is locked"."""

from __future__ import annotations

import subprocess
import sys

import pytest

OPEN = """
import sys
from palimpsest.storage.opening import open_for_writing
try:
    open_for_writing(sys.argv[1], create=True).engine.dispose()
    print("ok")
except Exception as exc:
    print("failed:", str(exc).splitlines()[0])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="turns use flock (POSIX)")
def test_two_first_uses_of_a_new_sqlite_file_both_succeed(tmp_path):
    for round_ in range(3):  # the race was lost 3 times in 7 before
        url = f"sqlite:///{tmp_path / f'race-{round_}.db'}"
        starts = [
            subprocess.Popen([sys.executable, "-c", OPEN, url], stdout=subprocess.PIPE, text=True) for _ in range(2)
        ]
        answers = [process.communicate(timeout=120)[0].strip() for process in starts]
        assert answers == ["ok", "ok"], answers
