"""An archive kept as evidence on read-only media is read by every reading command.

The archive folder is bind-mounted read-only in a mount namespace of its own (``unshare -m``,
as root); the test skips where that is not allowed. SQLite in WAL mode cannot be opened there
with ``mode=ro`` ("unable to open database file") unless its ``-shm`` index is there too;
palimpsest then opens the file ``immutable=1``. An archive copied with a write-ahead log (its
last commits) but without the index is refused in one line: read without the log, those
commits would be silently missing. With both, ``mode=ro`` reads everything, the log included.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from palimpsest.storage.db import make_engine, make_session_factory
from palimpsest.storage.migrate import ensure_schema
from tests.test_export import T0, commit_version

URL = "https://example.com/news/council"

# Run inside the mount namespace: every reading command, in one interpreter (quicker than one
# process each), then the web view's app on the same archive.
READER = """
import sys
from palimpsest.cli import main
url, logged, torn, page, texts, export = sys.argv[1:]
commands = {{
    "history": ["--db", url, "history", {article!r}],
    "diff": ["--db", url, "diff", {article!r}, "--format", "json"],
    "export": ["--db", url, "export", "--out", export],
    "capture": ["--db", url, "capture", "2", "--json"],
    "story": ["--db", url, "story", "show", "council"],
    "db": ["--db", url, "db", "current"],
    "extract": ["extract", page, "--out", texts],
    "logged": ["--db", logged, "story", "list"],
    "torn": ["--db", torn, "history", {article!r}],
}}
for name, args in commands.items():
    print(f"exit {{name}}: {{main(args)}}", flush=True)

from palimpsest.web import build_app
from palimpsest.web.server import open_archive
client = build_app(open_archive(url, lambda message, code=1: SystemExit(message))).test_client()
for path in ("/", "/articles/1", "/articles/1/v/1"):
    print(f"web {{path}}: {{client.get(path).status_code}}", flush=True)
"""


def _archive(folder: Path) -> str:
    folder.mkdir()
    url = f"sqlite:///{folder / 'archive.db'}"
    engine = make_engine(url)
    ensure_schema(engine)
    sessions = make_session_factory(engine)
    commit_version(sessions, URL, "The council met on Monday.", story="council")
    commit_version(sessions, URL, "The council met on Tuesday.", at=T0.replace(hour=14), story="council")
    engine.dispose()  # the last connection checkpoints the write-ahead log and removes it
    return url


def _leave_a_write_ahead_log(url: str, *, keep_index: bool) -> None:
    """A process that committed and died before checkpointing: its -wal file (the commit) and
    -shm index stay behind; ``keep_index=False``: the index was not copied along."""
    path = url.removeprefix("sqlite:///")
    code = (
        "import os, sqlite3\n"
        f"c = sqlite3.connect({path!r}); c.execute('PRAGMA journal_mode=WAL')\n"
        "c.execute(\"UPDATE stories SET title = 'Renamed in the log'\"); c.commit(); os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert Path(path + "-wal").stat().st_size > 0
    if not keep_index:
        Path(path + "-shm").unlink()


def test_an_archive_on_a_read_only_mount_is_read_by_every_reading_command(tmp_path):
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to mount a folder read-only")
    evidence, logged, torn = tmp_path / "evidence", tmp_path / "logged", tmp_path / "torn"
    url = _archive(evidence)
    logged_url, torn_url = _archive(logged), _archive(torn)
    _leave_a_write_ahead_log(logged_url, keep_index=True)
    _leave_a_write_ahead_log(torn_url, keep_index=False)
    page = tmp_path / "page.html"
    page.write_text("<html><body><article><p>Words of an article.</p></article></body></html>")
    mounts = " && ".join(
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder}" for folder in (evidence, logged, torn)
    )
    reader = [sys.executable, "-c", READER.format(article=URL), url, logged_url, torn_url]
    reader += [page, evidence / "texts", tmp_path / "x"]
    script = f"""
        {mounts} || exit 99
        touch {evidence}/probe 2>/dev/null && exit 98
        PYTHONWARNINGS=ignore exec {" ".join(shlex.quote(str(part)) for part in reader)}
    """
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    if done.returncode == 99:
        pytest.skip(f"cannot mount a folder read-only here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("history", "diff", "export", "capture", "story", "db", "logged"):
        assert f"exit {name}: 0" in done.stdout, done.stdout + done.stderr
    assert "2 versions" in done.stdout and "up to date" in done.stdout
    assert "Renamed in the log" in done.stdout  # a log with its index beside it is read, commits included
    assert len((tmp_path / "x").read_text().splitlines()) == 2  # the export, written outside the mount
    assert all(f"web {path}: 200" in done.stdout for path in ("/", "/articles/1", "/articles/1/v/1")), done.stdout
    # Writing into the read-only folder, and a log of commits left behind: one line each.
    assert "exit extract: 2" in done.stdout and "exit torn: 2" in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr, done.stderr
    assert any(line.startswith("palimpsest: --out: cannot") for line in errors), errors
    assert any("write-ahead log archive.db-wal holds commits" in line for line in errors), errors
    assert not (evidence / "archive.db-shm").exists() and not (evidence / "archive.db-wal").exists()
