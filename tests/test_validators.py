"""A host whose validators lie stops getting conditional requests."""

from __future__ import annotations

from sqlalchemy import select

from palimpsest.newsroom.content import LEDGER_PATH
from palimpsest.storage.models import Capture, Outlet, Version


def test_lying_validators_are_caught_by_the_unconditional_verification(newsroom, cli, sessions):
    url = newsroom.url("ledger", LEDGER_PATH)
    newsroom.lying_validators = True
    verify = ["-s", "PALIMPSEST_VERIFY_EVERY=2"]  # every 2nd unchanged check is unconditional
    cli.crawl(url, *verify)  # v1
    newsroom.publish()  # the article changes; the server keeps saying 304

    cli.crawl(url, *verify)  # conditional: the lie is believed for now
    cli.crawl(url, *verify)  # unconditional verification: the change shows

    with sessions() as session:
        outcomes = [c.outcome for c in session.scalars(select(Capture).order_by(Capture.id))]
        assert outcomes == ["new_version", "not_modified", "new_version"]
        assert len(session.scalars(select(Version)).all()) == 2
        assert session.scalars(select(Outlet).where(Outlet.domain == "127.0.0.1")).one().validators_trusted is False

    newsroom.request_log.clear()
    cli.crawl(url, *verify)
    article_requests = [headers for _outlet, path, headers in newsroom.request_log if path == LEDGER_PATH]
    assert article_requests and not any(
        "if-none-match" in headers or "if-modified-since" in headers for headers in article_requests
    )


def test_truthful_validators_keep_getting_conditional_requests(newsroom, cli, sessions):
    url = newsroom.url("ledger", LEDGER_PATH)
    cli.crawl(url)
    newsroom.publish()
    cli.crawl(url)  # conditional; the newsroom's ETag changed, so a full 200 with v2

    with sessions() as session:
        assert [c.outcome for c in session.scalars(select(Capture).order_by(Capture.id))] == [
            "new_version",
            "new_version",
        ]
        assert session.scalars(select(Outlet).where(Outlet.domain == "127.0.0.1")).one().validators_trusted is True
