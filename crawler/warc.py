"""The raw archive: every fetch's request and response, in WARC files written with warcio.

Files roll over at a size limit, each record is its own gzip member (so any record can be read
from its offset alone), and every file starts with a ``warcinfo`` record. A file being written
is named ``NAME.warc.gz.open`` and renamed when it is closed; a process killed mid-write leaves
its ``.open`` file behind, and the next writer on the same host repairs it (a torn last record
is cut off at the last complete gzip member) and gives it its final name. A payload identical
to one already archived for the same article is written as a ``revisit`` record pointing at the
original; a 304 is a ``revisit`` with the server-not-modified profile. File names carry the
host and process id, so several workers can write into one directory.

Scrapy hands us the body after content decoding (with its decompression-bomb limits), so the
archived payload is the decoded body; the original ``Content-Encoding`` and
``Transfer-Encoding`` headers are kept as ``X-Archive-Orig-*`` and ``Content-Length`` is the
decoded length, which is what replay tools expect.
"""

from __future__ import annotations

import io
import os
import socket
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from palimpsest import __version__

SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
_DECODED_HEADERS = ("content-encoding", "transfer-encoding")


@dataclass(frozen=True)
class WarcLocation:
    file: str  # relative to the archive directory
    offset: int
    length: int
    record_type: str  # response | revisit


@dataclass(frozen=True)
class HttpExchange:
    """What was sent and received, as the archive needs it."""

    url: str
    fetched_at: datetime
    status: int
    protocol: str | None
    response_headers: list[tuple[str, str]]
    body: bytes
    payload_digest: str
    request_headers: list[tuple[str, str]]
    ip_address: str | None = None


def warc_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def archived_headers(headers: list[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    """Response headers as archived: decoding headers renamed, Content-Length of the body kept."""
    result: list[tuple[str, str]] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in _DECODED_HEADERS:
            result.append((f"X-Archive-Orig-{name}", value))
        elif lowered == "content-length":
            continue
        else:
            result.append((name, value))
    result.append(("Content-Length", str(body_length)))
    return result


class WarcArchive:
    """One process's writer: a current file, rolled when it passes ``max_size`` bytes."""

    def __init__(self, directory: str | Path, *, prefix: str = "palimpsest", max_size: int = 100 * 1024 * 1024) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self._file: BinaryIO | None = None
        self._name: str | None = None
        self._writer: WARCWriter | None = None
        self._serial = 0

    def repair(self) -> list[tuple[str, int]]:
        """Close what dead writers on this host left open (see repair_leftovers)."""
        if not self.directory.is_dir():
            return []
        return repair_leftovers(self.directory)

    # --- files ------------------------------------------------------------------------------
    def _open_next(self) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        host = socket.gethostname().replace("-", "_")
        while True:
            self._serial += 1
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{host}-{os.getpid()}.warc.gz"
            path = self.directory / name
            if not path.exists() and not _open_path(path).exists():
                break
        self._file = _open_path(path).open("ab")
        self._name = name
        self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
        info = self._writer.create_warcinfo_record(
            name,
            {
                "software": f"palimpsest/{__version__} (warcio)",
                "format": "WARC File Format 1.1",
                "robots": "obey",
                "description": "palimpsest news archive: every fetch of every article",
            },
        )
        self._writer.write_record(info)
        self._file.flush()

    def _ready(self) -> WARCWriter:
        if self._file is None or self._file.tell() >= self.max_size:
            self._open_next()
        assert self._writer is not None
        return self._writer

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(_open_path(self.directory / self._name), self.directory / self._name)
        self._file = self._writer = self._name = None

    def flush(self) -> None:
        """Make written records durable (called before the database commit that cites them)."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    # --- records ----------------------------------------------------------------------------
    def append(self, records: ArchiveRecords) -> WarcLocation:
        """Append a capture's records (already built and compressed); where the first landed."""
        self._ready()
        assert self._file is not None and self._name is not None
        offset = self._file.tell()
        self._file.write(records.response)
        self._file.write(records.request)
        self._file.flush()
        return WarcLocation(self._name, offset, len(records.response), records.record_type)

    def write(self, exchange: HttpExchange, *, revisit_of: tuple[str, str] | None = None) -> WarcLocation:
        """Build and append the records of one exchange."""
        return self.append(build_records(exchange, revisit_of=revisit_of))


@dataclass(frozen=True)
class ArchiveRecords:
    """A capture's WARC records, each one gzip member, ready to be appended to any file."""

    response: bytes  # the response or revisit record
    request: bytes  # empty for a revisit: the capture row keeps what was asked
    record_type: str  # response | revisit


# zlib level 6: within a few percent of level 9 (warcio's default) on HTML, twice as fast.
GZIP_LEVEL = 6


def _member(record: Any) -> bytes:
    """One record as one gzip member."""
    buffer = io.BytesIO()
    WARCWriter(buffer, gzip=False, warc_version="1.1").write_record(record)
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return compressor.compress(buffer.getvalue()) + compressor.flush()


_BUILDER = WARCWriter(io.BytesIO(), gzip=False, warc_version="1.1")  # makes records, writes nothing


def build_records(exchange: HttpExchange, *, revisit_of: tuple[str, str] | None = None) -> ArchiveRecords:
    """The response record and its request record for one exchange, or a revisit record
    alone (pure: runs in an extraction worker as well as in the crawler).

    ``revisit_of``: (target URI, WARC date) of the record that holds this payload already.
    """
    date = warc_date(exchange.fetched_at)
    headers = {"WARC-Date": date}
    if exchange.ip_address:
        headers["WARC-IP-Address"] = exchange.ip_address
    http_headers = StatusAndHeaders(
        _status_line(exchange.status),
        archived_headers(exchange.response_headers, len(exchange.body) if exchange.status != 304 else 0),
        protocol=exchange.protocol or "HTTP/1.1",
    )
    if exchange.status == 304:
        record = _BUILDER.create_warc_record(
            exchange.url, "revisit", http_headers=http_headers, warc_headers_dict=headers
        )
        record.rec_headers.add_header("WARC-Profile", SERVER_NOT_MODIFIED)
        if revisit_of:
            record.rec_headers.add_header("WARC-Refers-To-Target-URI", revisit_of[0])
            record.rec_headers.add_header("WARC-Refers-To-Date", revisit_of[1])
        record_type = "revisit"
    elif revisit_of is not None:
        # The HTTP headers as received, Content-Length included: replay tools (pywb) serve the
        # original record's payload under these headers, so a "0" here replays a blank page.
        record = _BUILDER.create_revisit_record(
            exchange.url,
            exchange.payload_digest,
            revisit_of[0],
            revisit_of[1],
            http_headers=http_headers,
            warc_headers_dict=headers,
        )
        record_type = "revisit"
    else:
        record = _BUILDER.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            length=len(exchange.body),
            http_headers=http_headers,
            warc_headers_dict={**headers, "WARC-Payload-Digest": exchange.payload_digest},
        )
        record_type = "response"
    if record_type == "revisit":
        # An unchanged re-check adds its revisit record only: a request record would more than
        # double the archive's growth per check, and the capture row records the validators sent.
        return ArchiveRecords(_member(record), b"", record_type)
    request = _BUILDER.create_warc_record(
        exchange.url,
        "request",
        http_headers=StatusAndHeaders(
            f"GET {_request_target(exchange.url)} HTTP/1.1", exchange.request_headers, is_http_request=True
        ),
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record.rec_headers.get_header("WARC-Record-ID")},
    )
    return ArchiveRecords(_member(record), _member(request), record_type)


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class ArchivedRecord:
    record_type: str
    target_uri: str
    date: str
    status: str | None
    headers: list[tuple[str, str]]
    payload: bytes
    refers_to: tuple[str, str] | None  # (target URI, date) for revisits


def _open_path(path: Path) -> Path:
    return path.with_name(path.name + ".open")


def complete_length(path: Path) -> int:
    """How many leading bytes of a ``.warc.gz`` file are complete gzip members (records)."""
    good = position = 0
    inflater = zlib.decompressobj(31)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            data = chunk
            while data:
                try:
                    inflater.decompress(data, 1 << 20)
                    while inflater.unconsumed_tail and not inflater.eof:
                        inflater.decompress(inflater.unconsumed_tail, 1 << 20)
                except zlib.error:
                    return good
                if inflater.eof:
                    position += len(data) - len(inflater.unused_data)
                    good = position
                    data = inflater.unused_data
                    inflater = zlib.decompressobj(31)
                else:
                    position += len(data)
                    data = b""
    return good


def _owner_is_gone(path: Path) -> bool:
    """A ``...-HOST-PID.warc.gz.open`` file of this host whose process no longer runs."""
    stem = path.name.removesuffix(".warc.gz.open")
    host, _, pid = stem.rpartition("-")
    if not pid.isdigit() or not host.endswith(socket.gethostname().replace("-", "_")):
        return False  # another host's writer: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def repair_leftovers(directory: Path) -> list[tuple[str, int]]:
    """Close the files of writers on this host that died mid-write: cut a torn last record,
    give the file its final name. Returns (file, bytes cut) for each file repaired."""
    repaired = []
    for path in sorted(directory.glob("*.warc.gz.open")):
        if not _owner_is_gone(path):
            continue
        keep = complete_length(path)
        size = path.stat().st_size
        if keep < size:
            with path.open("r+b") as handle:
                handle.truncate(keep)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(path, path.with_name(path.name.removesuffix(".open")))
        repaired.append((path.name.removesuffix(".open"), size - keep))
    return repaired


def read_record(directory: str | Path, file: str, offset: int, length: int) -> ArchivedRecord:
    """The record at ``offset`` (one gzip member of ``length`` bytes) in an archive file
    (still named ``.open`` while its writer runs)."""
    path = Path(directory) / file
    if not path.exists() and _open_path(path).exists():
        path = _open_path(path)
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read(length)
    for record in ArchiveIterator(io.BytesIO(data)):
        http = record.http_headers
        refers = record.rec_headers.get_header("WARC-Refers-To-Target-URI")
        return ArchivedRecord(
            record_type=record.rec_type,
            target_uri=record.rec_headers.get_header("WARC-Target-URI"),
            date=record.rec_headers.get_header("WARC-Date"),
            status=http.get_statuscode() if http else None,
            headers=list(http.headers) if http else [],
            payload=record.content_stream().read(),
            refers_to=(refers, record.rec_headers.get_header("WARC-Refers-To-Date")) if refers else None,
        )
    raise ValueError(f"no WARC record at {file}:{offset}")
