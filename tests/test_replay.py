"""The WARC archive replays in pywb, the most used replay tool, built from the project's files.

Three captures of one article: the first fetch (a response record), an unchanged re-check sent
without validators (a revisit with the identical-payload-digest profile) and a 304 re-check (a
revisit with the server-not-modified profile). pywb's ``wb-manager`` indexes the files,
``wayback`` serves them on a loopback port, and each capture is fetched through replay.

pywb pins redis 2.x, which cannot share an environment with ``palimpsest[redis]`` (redis >= 5),
so it runs from a virtual environment of its own: a ``wayback`` on PATH, else ``.venv-pywb``
(or ``$PALIMPSEST_PYWB_VENV``), made on first use. The test skips only when pywb cannot be
installed.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import select

from palimpsest.newsroom.content import LEDGER_PATH
from palimpsest.storage.models import Capture
from tests.pywb_support import running_wayback

HEADLINE = "Harbor City to Sell Its Water Utility to a Private Operator"
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str) -> tuple[int, bytes]:
    try:
        with LOCAL.open(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:  # a 304 replayed as such
        return exc.code, exc.read()


def _crawl_one_second_apart(cli, url: str, *extra: str) -> None:
    """pywb addresses captures by the second: keep them in different seconds."""
    time.sleep(max(0.0, 1.1 - (time.time() % 1)))
    cli.crawl(url, *extra)


@pytest.mark.slow
def test_first_capture_unchanged_recheck_and_304_replay_in_pywb(newsroom, cli, sessions, pywb, tmp_path):
    url = newsroom.url("ledger", LEDGER_PATH)
    cli.crawl(url)  # the first capture: a response record
    _crawl_one_second_apart(cli, url, "-s", "PALIMPSEST_CONDITIONAL_REQUESTS=False")  # the same bytes: a revisit
    _crawl_one_second_apart(cli, url)  # If-None-Match answered by a 304: a revisit
    with sessions() as session:
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
    assert [c.outcome for c in captures] == ["new_version", "unchanged", "not_modified"]

    warcs = sorted(cli.archive_dir.glob("*.warc.gz"))
    with running_wayback(pywb, tmp_path / "pywb", "news", warcs) as base:

        def replay(capture: Capture) -> tuple[int, bytes]:
            stamp = capture.fetched_at.strftime("%Y%m%d%H%M%S")
            return _get(f"{base}/{stamp}id_/{url}")  # id_: the archived page as it was served

        first, unchanged, not_modified = captures
        for capture in (first, unchanged):
            status, body = replay(capture)
            assert status == 200, capture.outcome
            assert HEADLINE.encode() in body and b"</html>" in body, f"{capture.outcome}: {body[:200]!r}"
        # The identical-payload revisit replays the very bytes of the first capture.
        assert replay(unchanged)[1] == replay(first)[1]
        # pywb replays a server-not-modified revisit as what the server said: a 304, no body
        # (pywb serves any 3xx revisit with an empty payload). The README says so.
        assert replay(not_modified) == (304, b"")
