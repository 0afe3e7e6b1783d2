"""Errors a user can cause end with one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


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


# --- in this process: faster than a subprocess, and a traceback would fail the test as well ------


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    from palimpsest.cli import main

    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str, fragment: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("palimpsest: ") and fragment in lines[0], err


def test_typos_never_create_an_archive(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for args in (
        ["--db", "bogus", "history", "http://example.com/a"],
        ["--db", "bogus", "db", "current"],
        ["--db", "bogus", "db", "check"],
        ["--db", "bogus", "export"],
        ["--db", "bogus", "story", "list"],
        ["--db", "bogus", "capture", "1"],
        ["--db", "bogus", "run", "--once"],
        ["--db", "bogus", "story", "remove", "x"],
        ["--db", f"sqlite:///{tmp_path / 'missing' / 'a.db'}", "crawl", "http://example.com/a"],
        ["--db", f"sqlite:///{tmp_path / 'missing' / 'a.db'}", "db", "upgrade"],
    ):
        code, _out, err = run_main(capsys, *args)
        assert code == 2, (args, err)
        one_line(err, "no ")
    assert sorted(path.name for path in tmp_path.iterdir()) == []  # no file, no folder

    code, out, err = run_main(capsys, "--db", "new.db", "db", "upgrade")
    assert code == 0 and "(head)" in out
    one_line(err, "created a new archive at new.db")
    code, out, _err = run_main(capsys, "--db", "new.db", "db", "current")
    assert code == 0 and "up to date" in out


def test_a_file_that_is_not_a_database_is_one_line_for_every_command(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not a database\n")
    for args in (
        ["history", "http://example.com/a"],
        ["export"],
        ["story", "list"],
        ["story", "add", "s", "--title", "S", "--seed", "http://example.com/a"],
        ["crawl", "http://example.com/a"],
        ["db", "current"],
        ["db", "upgrade"],
        ["serve", "--port", "0"],
    ):
        code, _out, err = run_main(capsys, "--db", "notes.txt", *args)
        assert code == 2, (args, err)
        one_line(err, "not a database file")
    assert (tmp_path / "notes.txt").read_text() == "not a database\n"


def test_bad_settings_are_one_line_naming_the_setting(sessions, database_url, monkeypatch, capsys):
    cases = {
        "PALIMPSEST_EXTRACT_WORKERS=abc": "PALIMPSEST_EXTRACT_WORKERS='abc': expected a whole number",
        "PALIMPSEST_STORE_BATCH=0": "PALIMPSEST_STORE_BATCH='0': expected from 1 to",
        "PALIMPSEST_SCHEDULE_TIERS=3h": "PALIMPSEST_SCHEDULE_TIERS='3h': tier '3h' must look like 'AGE=INTERVAL'",
        "PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=10.0.0.0/33": "not a network: '10.0.0.0/33'",
        "PALIMPSEST_WARC_UNCHANGED=maybe": "expected one of 'revisit', 'none'",
        "PALIMPSEST_EXTRACT_WORKRS=2": "unknown setting PALIMPSEST_EXTRACT_WORKRS; did you mean PALIMPSEST_EXTRACT_W",
        "DOWNLOAD_DELAY=soon": "DOWNLOAD_DELAY='soon': expected a number",
        "FOO": "-s expects NAME=VALUE, got 'FOO'",
    }
    for setting, fragment in cases.items():
        code, _out, err = run_main(capsys, "--db", database_url, "story", "list", "-s", setting)
        assert code == 2, setting
        one_line(err, fragment)
    # The environment is read and checked too, PALIMPSEST_SCHEDULE_* included.
    monkeypatch.setenv("PALIMPSEST_SCHEDULE_MIN_INTERVAL", "5 minutes")
    code, _out, err = run_main(capsys, "--db", database_url, "story", "list")
    assert code == 2
    one_line(err, "PALIMPSEST_SCHEDULE_MIN_INTERVAL='5 minutes': invalid duration")
    assert "(from the environment)" in err


def test_settings_from_the_environment_reach_the_crawl_settings():
    import importlib

    from palimpsest.crawler import settings as settings_module
    from palimpsest.crawler.pipelines import schedule_policy
    from palimpsest.crawler.runner import build_settings, command_line_settings

    environ = {"PALIMPSEST_SCHEDULE_MIN_INTERVAL": "90s", "PALIMPSEST_STORE_BATCH": "7", "PALIMPSEST_TEST_X": "y"}
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in environ.items():
                patch.setenv(name, value)
            importlib.reload(settings_module)  # as a new process reads it
            settings = build_settings(command_line_settings(["PALIMPSEST_VERIFY_EVERY=3"], environ))
            assert schedule_policy(settings).min_interval.total_seconds() == 90
            assert settings.getint("PALIMPSEST_STORE_BATCH") == 7 and settings.getint("PALIMPSEST_VERIFY_EVERY") == 3
            # -s wins over the environment.
            settings = build_settings(command_line_settings(["PALIMPSEST_STORE_BATCH=9"], environ))
            assert settings.getint("PALIMPSEST_STORE_BATCH") == 9
    finally:
        importlib.reload(settings_module)


def test_setting_types_come_from_the_declared_defaults():
    from palimpsest.crawler.configuration import SettingError, check_value

    assert check_value("PALIMPSEST_NEW_TIMEOUT", "2.5", 30.0) == 2.5  # a float declared: a number
    assert check_value("PALIMPSEST_NEW_FLAG", "yes", False) is True
    assert check_value("PALIMPSEST_NEW_COUNT", " 12 ", 4) == 12
    for raw, default in (("-1", 4), ("1e400", 4), ("x", 30.0), ("maybe", True), ("99999999999999999999999", 4)):
        with pytest.raises(SettingError, match="PALIMPSEST_NEW"):
            check_value("PALIMPSEST_NEW", raw, default)


def test_story_add_checks_its_values_before_creating_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    seed = ["--seed", "http://example.com/a"]
    cases = {
        ("Bad Slug!", "--title", "T"): "slug 'Bad Slug!'",
        ("s", "--title", "T", "--similarity", "2"): "similarity 2.0: expected a share from 0 to 1",
        ("s", "--title", "T", "--poll", "-5"): "poll -5: expected 60 to",
        ("s", "--title", "T", "--poll", "9" * 30): "poll 9999",
        ("s", "--title", "  "): "title: give 1 to 500 characters",
    }
    for args, fragment in cases.items():
        code, _out, err = run_main(capsys, "--db", "a.db", "story", "add", *args, *seed)
        assert code == 2, args
        one_line(err, fragment)
    assert not (tmp_path / "a.db").exists()


def test_story_remove_deletes_the_story_and_keeps_its_articles(sessions, database_url, capsys):
    from tests.test_export import commit_version

    commit_version(sessions, "https://example.com/a", "Text of a.", story="council")
    code, out, err = run_main(capsys, "--db", database_url, "story", "remove", "council")
    assert code == 0, err
    assert "Removed story 'council'" in out and "1 membership(s)" in out
    code, out, _err = run_main(capsys, "--db", database_url, "story", "list")
    assert "No stories yet" in out
    code, out, _err = run_main(capsys, "--db", database_url, "history", "https://example.com/a")
    assert code == 0 and "1 version" in out
    code, _out, err = run_main(capsys, "--db", database_url, "story", "remove", "council")
    assert code == 1
    one_line(err, "no story 'council'")


def test_history_lists_capture_ids_that_capture_accepts(sessions, database_url, capsys):
    from tests.test_export import T0, commit_version

    commit_version(sessions, "https://example.com/a", "One.")
    commit_version(sessions, "https://example.com/a", "Two.", at=T0.replace(hour=13))
    code, out, _err = run_main(capsys, "--db", database_url, "history", "https://example.com/a", "--json")
    fetches = json.loads(out)["fetches"]
    assert [(f["outcome"], f["version"]) for f in fetches] == [("new_version", 1), ("new_version", 2)]
    code, out, _err = run_main(capsys, "--db", database_url, "capture", str(fetches[1]["capture_id"]), "--json")
    assert code == 0 and json.loads(out)["version"] == 2
    code, out, _err = run_main(capsys, "--db", database_url, "history", "https://example.com/a")
    assert f"capture {fetches[0]['capture_id']}" in out


def test_diff_names_the_version_asked_for(sessions, database_url, capsys):
    from tests.test_export import T0, commit_version

    commit_version(sessions, "https://example.com/a", "One.")
    commit_version(sessions, "https://example.com/a", "Two.", at=T0.replace(hour=13))
    code, _out, err = run_main(capsys, "--db", database_url, "diff", "https://example.com/a", "--to", "5")
    assert code == 1
    one_line(err, "no version 5 (versions 1..2)")
    code, _out, err = run_main(capsys, "--db", database_url, "diff", "https://example.com/a", "--to", "1")
    one_line(err, "version 1 is the first")


def test_mistakes_around_the_edges_are_one_line(sessions, database_url, tmp_path, monkeypatch, capsys):
    import socket

    binary = tmp_path / "cursor.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = [
        (["capture", "99999999999999999999"], 2, "expected a whole number from 1 to"),
        (["export", "--since", f"@{binary}"], 2, "is not a cursor file"),
        (["crawl", "http://example.com/a", "--stats", str(tmp_path / "no" / "stats.json")], 2, "--stats: no folder"),
        (["serve", "--port", "-1"], 2, "expected a whole number from 0 to 65535"),
        (["demo", "--dir", str(a_file)], 2, "is a file, not a folder"),
        (["run", "--redis", "notaurl"], 2, "not a Redis URL"),
        (["run", "--max-sleep", "0"], 2, "expected a number from"),
    ]
    for args, expected_code, fragment in cases:
        code, _out, err = run_main(capsys, "--db", database_url, *args)
        assert code == expected_code, (args, err)
        one_line(err, fragment)

    def unresolvable(*_args, **_kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)  # no real lookup from a test
    code, _out, err = run_main(capsys, "--db", database_url, "serve", "--host", "archive.invalid", "--port", "0")
    assert code == 2
    one_line(err, "cannot listen on archive.invalid:0")


def test_newsroom_on_a_busy_port_is_one_line(capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code, _out, err = run_main(capsys, "newsroom", "--port", str(busy.getsockname()[1]))
    assert code == 2
    one_line(err, "cannot serve the newsroom on port")


def test_extract_out_mistakes_lose_nothing(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.html").write_text("<html><body><article><p>Text.</p></article></body></html>")
    out = tmp_path / "out"
    inputs = [str(tmp_path / "a/x.html"), str(tmp_path / "b/x.html")]
    code, _out, err = run_main(capsys, "extract", *inputs, "--out", str(out))
    assert code == 2
    one_line(err, "would both write x.txt")
    assert not out.exists()
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    code, _out, err = run_main(capsys, "extract", str(tmp_path / "a/x.html"), "--out", str(a_file))
    assert code == 2
    one_line(err, "is a file, not a folder")
    assert a_file.read_text() == "keep me"


def test_a_locked_database_is_one_line(sessions, database_url, monkeypatch, capsys):
    import sqlite3

    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    from palimpsest.storage import db

    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0.1)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, _out, err = run_main(
            capsys, "--db", database_url, "story", "add", "s", "--title", "S", "--seed", "http://example.com/a"
        )
    finally:
        holder.rollback()
        holder.close()
    assert code == 1
    one_line(err, "database is locked")


# --- closed pipes: a real pipe, closed before the command writes -------------------------------------


def test_a_closed_pipe_is_one_line(sessions, database_url, tmp_path):
    from tests.test_export import commit_version

    commit_version(sessions, "https://example.com/a", "One paragraph.\n\n" * 50)
    page = tmp_path / "page.html"
    page.write_text("<html><body><article>" + "<p>A sentence of the article.</p>" * 50 + "</article></body></html>")
    for args in (["history", "https://example.com/a"], ["extract", str(page), "--json"]):
        process = subprocess.Popen(
            [sys.executable, "-m", "palimpsest", "--db", database_url, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONWARNINGS="ignore"),
        )
        process.stdout.close()  # `| head -0`: the reader is gone before anything is written
        with process.stderr:
            err = process.stderr.read()
        process.wait(timeout=120)
        assert process.returncode == 1, (args, err)
        assert "Traceback" not in err and "Exception ignored" not in err, err
        one_line(err, "output closed before everything was written")
