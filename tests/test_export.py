"""``palimpsest export``: every version once, in a stable format, since a cursor.

Data is written with ``storage.ingest.ingest_capture`` (what the crawler calls), not by
crawling: these tests are about what leaves the archive, and must stay fast.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from palimpsest.cli import main
from palimpsest.storage.db import make_engine
from palimpsest.storage.export import (
    FIELDS,
    SCHEMA,
    CursorError,
    IdCursor,
    SnapshotCursor,
    csv_record,
    decode_cursor,
    encode_cursor,
    iso_from_text,
    snapshot_session,
    start_export,
    write_csv,
    write_jsonl,
)
from palimpsest.storage.ingest import ExtractedVersion, FetchRecord, StoryLink, ingest_capture
from palimpsest.storage.models import Capture, Version
from palimpsest.storage.versioning import VersionContent

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TRICKY_TEXT = 'First line, with "quotes", commas; and é, ß, 東京, emoji 🗞.\n\nSecond paragraph\r\nthird line.'


def candidate(text: str, headline: str = "Council votes", **overrides) -> ExtractedVersion:
    fields = {
        "headline": headline,
        "dek": "The standfirst",
        "byline": "By A. Reporter",
        "text": text,
        "content_hash": "",
        "word_count": len(text.split()),
        "extractor": "test",
        "access": "free",
        "language": "en",
        "published_at": T0 - timedelta(hours=1),
    }
    fields.update(overrides)
    fields["content_hash"] = VersionContent.of(fields["headline"], fields["dek"], fields["byline"], text).content_hash
    return ExtractedVersion(**fields)


def add_version(session, url: str, text: str, *, story: str | None = None, at: datetime = T0, **overrides) -> int:
    """Ingest one capture that makes a new version; its version id. Does not commit."""
    fetch = FetchRecord(
        requested_url=url,
        canonical_url=url,
        outlet_domain="example.com",
        outlet_name="Example Times",
        fetched_at=at,
        http_status=200,
    )
    result = ingest_capture(
        session, fetch, candidate(text, **overrides), now=at, story=StoryLink(story) if story else None
    )
    assert result.outcome == "new_version", result
    return session.get(Capture, result.capture_id).version_id


def commit_version(sessions, url: str, text: str, **kwargs) -> int:
    with sessions() as session, session.begin():
        return add_version(session, url, text, **kwargs)


def jsonl_rows(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line]


def cursor_from(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("next cursor: ")]
    assert len(lines) == 1, stderr
    return lines[0].removeprefix("next cursor: ")


# --- the command ------------------------------------------------------------------------------
def test_export_then_since_cursor_gives_exactly_the_new_versions(sessions, cli):
    a1 = commit_version(sessions, "https://example.com/a", "The council met on Monday.", story="council")
    a2 = commit_version(
        sessions, "https://example.com/a", "The council met on Tuesday.", at=T0 + timedelta(hours=1), story="council"
    )
    b1 = commit_version(sessions, "https://example.com/b", TRICKY_TEXT)

    first = cli("export", check=True)
    rows = jsonl_rows(first.stdout)
    assert [row["version_id"] for row in rows] == [a1, a2, b1]
    cursor = cursor_from(first.stderr)
    assert cursor.startswith(("v1.pg.", "v1.id."))

    row = rows[1]
    assert list(row) == list(FIELDS)
    assert row["schema"] == SCHEMA
    assert row["url"] == "https://example.com/a" and row["seq"] == 2
    assert row["outlet_domain"] == "example.com" and row["outlet_name"] == "Example Times"
    assert row["stories"] == ["council"]
    assert row["first_seen_at"] == "2026-03-01T13:00:00+00:00"
    assert row["published_at"] == "2026-03-01T11:00:00+00:00"
    assert row["modified_at"] is None
    assert row["change_kinds"] == ["lede"] and 0 < row["similarity"] < 1
    assert row["complete"] is True and row["access"] == "free" and row["language"] == "en"
    assert rows[0]["similarity"] is None and rows[0]["change_kinds"] == []
    assert rows[2]["text"] == TRICKY_TEXT and rows[2]["stories"] == []

    a3 = commit_version(sessions, "https://example.com/a", "The council met on Friday.", at=T0 + timedelta(hours=2))
    c1 = commit_version(sessions, "https://example.com/c", "A new article appears.", at=T0 + timedelta(hours=2))
    second = cli("export", "--since", cursor, check=True)
    assert [row["version_id"] for row in jsonl_rows(second.stdout)] == [a3, c1]

    third = cli("export", "--since", cursor_from(second.stderr), check=True)
    assert jsonl_rows(third.stdout) == []
    assert "exported 0 version(s)" in third.stderr


def run(database_url: str, capsys, *args: str) -> tuple[int, str, str]:
    """The command in this process (faster than ``cli``, for the cases around the main path)."""
    code = main(["--db", database_url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_story_filter(sessions, database_url, capsys):
    in_story = commit_version(sessions, "https://example.com/a", "In the story.", story="council")
    commit_version(sessions, "https://example.com/b", "Not in the story.")
    also = commit_version(sessions, "https://example.com/c", "Also in it.", story="council")
    commit_version(sessions, "https://example.com/d", "Another story.", story="budget")

    code, out, err = run(database_url, capsys, "export", "--story", "council")
    assert code == 0, err
    assert [row["version_id"] for row in jsonl_rows(out)] == [in_story, also]
    assert [row["stories"] for row in jsonl_rows(out)] == [["council"], ["council"]]

    code, out, err = run(database_url, capsys, "export", "--story", "no-such-story")
    assert (code, out) == (1, "")
    assert err.strip() == "palimpsest: no story 'no-such-story' in this archive"


def test_out_writes_the_file_and_its_cursor_atomically(sessions, cli, tmp_path):
    first_id = commit_version(sessions, "https://example.com/a", "One.")
    out = tmp_path / "batch.jsonl"
    result = cli("export", "--out", str(out), check=True)
    assert result.stdout == ""
    assert [row["version_id"] for row in jsonl_rows(out.read_text(encoding="utf-8"))] == [first_id]
    cursor_file = tmp_path / "batch.jsonl.cursor"
    assert decode_cursor(cursor_file.read_text()) is not None
    assert cursor_file.read_text().endswith("\n")

    new_id = commit_version(sessions, "https://example.com/b", "Two.")
    cli("export", "--since", f"@{cursor_file}", "--out", str(out), check=True)
    assert [row["version_id"] for row in jsonl_rows(out.read_text(encoding="utf-8"))] == [new_id]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".batch")) == []  # no temp files left


def test_bad_cursors_are_one_line_errors(sessions, database_url, capsys, cli):
    commit_version(sessions, "https://example.com/a", "One.")
    postgres = database_url.startswith("postgresql")
    cases = {
        "garbage": "not an export cursor: 'garbage'",
        "v1.pg.10.5": "inconsistent snapshot",
        "v2.pg.1.2": "cursor format v2 is not supported",
        "@missing.cursor": "cannot read cursor file missing.cursor",
        # a cursor of the other backend
        "v1.id.1" if postgres else "v1.pg.100.100": "comes from a",
        # a cursor of a busier archive
        "v1.pg.9000000000.9000000000" if postgres else "v1.id.99": "ahead of this archive",
    }
    for since, message in cases.items():
        code, out, err = run(database_url, capsys, "export", "--since", since)
        assert (code, out) == (2, ""), (since, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("palimpsest: --since: "), err
        assert message in err, (since, err)

    real = cli("export", "--since", "garbage")  # the installed command, in its own process
    assert real.returncode == 2 and real.stdout == "" and "Traceback" not in real.stderr
    assert real.stderr.strip().splitlines() == [
        "palimpsest: --since: not an export cursor: 'garbage' (expected v1.pg.… or v1.id.…)"
    ]


def test_csv_survives_quotes_newlines_commas_and_unicode(sessions, cli, tmp_path):
    a1 = commit_version(sessions, "https://example.com/a", "Plain text.", story="council")
    a2 = commit_version(sessions, "https://example.com/a", TRICKY_TEXT, at=T0 + timedelta(hours=1), story="council")
    out = tmp_path / "batch.csv"
    cli("export", "--format", "csv", "--out", str(out), check=True)

    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: spreadsheets then read UTF-8
    assert raw.count(b"\xef\xbb\xbf") == 1
    with out.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        records = [dict(zip(header, record, strict=True)) for record in reader]
    assert tuple(header) == FIELDS
    assert [int(r["version_id"]) for r in records] == [a1, a2]
    assert records[1]["text"] == TRICKY_TEXT
    assert records[1]["headline"] == "Council votes" and records[1]["stories"] == "council"
    assert records[1]["complete"] == "true" and records[1]["change_kinds"] == "lede;body"
    assert records[0]["similarity"] == "" and records[0]["modified_at"] == ""
    assert records[1]["first_seen_at"] == "2026-03-01T13:00:00+00:00"


def test_csv_and_jsonl_load_with_pandas(sessions, cli, tmp_path):
    pandas = pytest.importorskip("pandas")
    commit_version(sessions, "https://example.com/a", "Plain text.", story="council")
    commit_version(sessions, "https://example.com/b", TRICKY_TEXT)
    cli("export", "--format", "csv", "--out", str(tmp_path / "v.csv"), check=True)
    cli("export", "--out", str(tmp_path / "v.jsonl"), check=True)

    frame = pandas.read_csv(tmp_path / "v.csv", encoding="utf-8-sig", keep_default_na=False)
    assert list(frame.columns) == list(FIELDS) and len(frame) == 2
    assert frame["text"].iloc[1] == TRICKY_TEXT
    lines = pandas.read_json(tmp_path / "v.jsonl", lines=True)
    assert list(lines.columns) == list(FIELDS) and len(lines) == 2
    assert lines["text"].iloc[1] == TRICKY_TEXT and lines["stories"].iloc[0] == ["council"]


# --- the library ------------------------------------------------------------------------------
def test_streaming_in_small_batches_gives_the_same_rows(sessions, database_url):
    ids = [
        commit_version(sessions, f"https://example.com/{n}", f"Article number {n}.", story="s" if n % 2 else None)
        for n in range(7)
    ]
    engine = make_engine(database_url)
    with snapshot_session(engine) as session:
        whole = list(start_export(session).rows)
    with snapshot_session(engine) as session:
        export = start_export(session, batch_size=2)  # four batches: story slugs fetched per batch
        batched = list(export.rows)
    assert batched == whole and [row["version_id"] for row in whole] == ids
    assert [row["stories"] for row in whole] == [[], ["s"], [], ["s"], [], ["s"], []]
    with snapshot_session(engine) as session:
        assert list(start_export(session, export.next_cursor).rows) == []
    engine.dispose()


def test_txid_is_set_on_postgresql_only(sessions):
    version_id = commit_version(sessions, "https://example.com/a", "One.")
    with sessions() as session:
        txid = session.scalar(select(Version.txid).where(Version.id == version_id))
        if session.get_bind().dialect.name == "postgresql":
            assert isinstance(txid, int) and txid > 0
        else:
            assert txid is None


def test_cursor_round_trip_and_shape():
    for cursor in (SnapshotCursor(100, 105, (101, 103)), SnapshotCursor(7, 7), IdCursor(0), IdCursor(42)):
        encoded = encode_cursor(cursor)
        assert decode_cursor(encoded) == cursor
        assert set(encoded) <= set("v0123456789.pgid_")  # shell- and URL-safe, no quoting needed
    assert encode_cursor(SnapshotCursor(100, 105, (101, 103))) == "v1.pg.100.105.101_103"
    assert SnapshotCursor.from_pg_snapshot("100:105:101,103") == SnapshotCursor(100, 105, (101, 103))
    assert SnapshotCursor.from_pg_snapshot("7:7:").as_pg_snapshot() == "7:7:"
    assert decode_cursor("  v1.id.5\n") == IdCursor(5)  # as read back from FILE.cursor


@pytest.mark.parametrize(
    "value",
    [
        "",
        "v1",
        "v1.id.",
        "v1.id.-1",
        "v1.id.1.2",
        "v1.pg.5",
        "v1.pg.5.4",
        "v1.pg.0.0",
        "v1.pg.5.9.3",
        "v1.pg.5.9.7_6",
        "v1.pg.5.9.",
        "v1.pg.5:9:",
        "v1.id.99999999999999999999",
        "v9.id.1",
        "x" * 500,
    ],
)
def test_malformed_cursors_are_refused(value):
    with pytest.raises(CursorError):
        decode_cursor(value)


def test_jsonl_writer_keeps_one_row_per_line_whatever_the_text():
    stream = io.StringIO()
    rows = [{"text": "a\u2028b\u2029c\x85d\ne"}, {"text": "ü"}]
    assert write_jsonl(rows, stream) == 2
    lines = stream.getvalue().splitlines()  # splits on U+2028 too: it must not find one
    assert len(lines) == 2
    assert [json.loads(line) for line in lines] == rows
    assert "ü" in lines[1]  # UTF-8, not ASCII escapes


def test_csv_writer_cells():
    stream = io.StringIO(newline="")
    row = dict.fromkeys(FIELDS)
    row.update(stories=["a", "b"], change_kinds=[], complete=False, similarity=0.5, text='x,"y"\nz')
    assert write_csv([row], stream) == 1
    value = stream.getvalue()
    assert value.startswith("\ufeffschema,version_id,")
    record = list(csv.reader(io.StringIO(value.removeprefix("\ufeff"), newline="")))[1]
    cells = dict(zip(FIELDS, record, strict=True))
    assert cells["stories"] == "a;b" and cells["change_kinds"] == "" and cells["complete"] == "false"
    assert cells["similarity"] == "0.5" and cells["text"] == 'x,"y"\nz' and cells["url"] == ""


def test_out_directory_must_exist(sessions, database_url, capsys, tmp_path):
    commit_version(sessions, "https://example.com/a", "One.")
    code, _, err = run(database_url, capsys, "export", "--out", str(tmp_path / "missing" / "x.jsonl"))
    assert code == 1 and err.startswith("palimpsest: cannot write ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "missing").exists()


def test_out_to_a_pipe_is_written_in_place(sessions, database_url, capsys, tmp_path):
    """Not a regular file (a FIFO here, /dev/null in practice): no rename over it, no FILE.cursor."""
    version_id = commit_version(sessions, "https://example.com/a", "One.")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    code, _, err = run(database_url, capsys, "export", "--out", str(fifo))
    reader.join(timeout=10)
    assert code == 0, err
    assert [row["version_id"] for row in jsonl_rows(received[0])] == [version_id]
    assert fifo.is_fifo() and not (tmp_path / "pipe.cursor").exists()
    assert cursor_from(err)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.integers(), st.text(alphabet=st.characters(blacklist_characters="\x00"))),
        min_size=2,
        max_size=6,
    )
)
def test_csv_record_matches_the_csv_module(values):
    reference = io.StringIO(newline="")
    csv.writer(reference, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerow(values)
    assert csv_record(values) == reference.getvalue()
    parsed = next(csv.reader(io.StringIO(csv_record(values), newline="")))
    assert parsed == ["" if v is None else str(v) for v in values]


def test_timestamps_match_the_models_values(sessions, database_url):
    """The export formats timestamps itself on SQLite (a fast path): it must agree with the
    aware datetimes the models return, microseconds or not."""
    for n, at in enumerate((T0, T0 + timedelta(microseconds=123456), T0 + timedelta(seconds=1, microseconds=5))):
        commit_version(sessions, f"https://example.com/{n}", f"Article {n}.", at=at)
    engine = make_engine(database_url)
    with snapshot_session(engine) as session:
        rows = list(start_export(session).rows)
        stored = {
            v.id: (v.first_seen_at.isoformat(), v.last_seen_at.isoformat(), v.published_at.isoformat())
            for v in session.scalars(select(Version))
        }
    engine.dispose()
    for row in rows:
        assert (row["first_seen_at"], row["last_seen_at"], row["published_at"]) == stored[row["version_id"]]
        assert datetime.fromisoformat(row["first_seen_at"]).utcoffset() == timedelta(0)
    assert rows[1]["first_seen_at"] == "2026-03-01T12:00:00.123456+00:00"


def test_timestamp_text_in_other_forms_is_parsed():
    assert iso_from_text(None) is None
    assert iso_from_text("2026-03-01 12:00:00.000000") == "2026-03-01T12:00:00+00:00"
    assert iso_from_text("2026-03-01 12:00:00") == "2026-03-01T12:00:00+00:00"
    assert iso_from_text("2026-03-01T14:00:00+02:00") == "2026-03-01T12:00:00+00:00"
