"""Errors a user can cause end with one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations


def _one_line_error(result, fragment):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("palimpsest: ")
    assert fragment in lines[0]


def test_bad_url(cli):
    result = cli("crawl", "not-a-url")
    _one_line_error(result, "not an http(s) URL")
    assert result.returncode == 2


def test_unreachable_database(cli):
    # Port 9 on loopback: nothing listens there.
    result = cli("--db", "postgresql://postgres@127.0.0.1:9/nowhere", "history", "http://example.com/a")
    _one_line_error(result, "cannot open database postgresql://postgres@127.0.0.1:9/nowhere: connection failed")


def test_unsupported_database_url(cli):
    _one_line_error(cli("--db", "mysql://root@127.0.0.1/x", "db", "current"), "unsupported database")


def test_unknown_article(cli, sessions):
    _one_line_error(cli("history", "http://127.0.0.1:9/never-crawled"), "no archived article for")


def test_bad_setting_syntax(cli):
    _one_line_error(cli("crawl", "-s", "NOEQUALS", "http://127.0.0.1:9/"), "NAME=VALUE")


def test_db_current_and_check_on_a_new_database(cli):
    upgraded = cli("db", "upgrade", check=True)
    assert "(head)" in upgraded.stdout
    assert "up to date" in cli("db", "current", check=True).stdout
    assert "models and database agree" in cli("db", "check", check=True).stdout
