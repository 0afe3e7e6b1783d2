"""``palimpsest extract``: run extraction on files or URLs, with no database.

``--out DIR`` writes ``<name>.txt`` per input, ``<name>`` being the file name without
``.html``/``.html.gz``: the layout ``../shared/eval/score.py`` reads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import zlib
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from palimpsest.cli.common import UserError, bounded_int
from palimpsest.crawler.extract import Extraction, ExtractionError, extract_article
from palimpsest.crawler.extract.urls import is_http_url
from palimpsest.crawler.fetch import FetchError, fetch_once
from palimpsest.crawler.settings import DOWNLOAD_MAXSIZE, USER_AGENT

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def output_name(source: str) -> str:
    """The file stem for an input: 'x.html.gz' -> 'x'; a URL -> its last path segment + hash."""
    if is_http_url(source):
        tail = source.rstrip("/").rsplit("/", 1)[-1] or "index"
        tail = re.sub(r"\.html?$", "", tail)
        digest = hashlib.sha1(source.encode()).hexdigest()[:8]
        return f"{_SAFE_NAME.sub('-', tail)[:60]}-{digest}"
    name = Path(source).name
    for suffix in (".html.gz", ".htm.gz", ".html", ".htm", ".gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


_MEGABYTES = 1024 * 1024
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decompressed(source: str, data: bytes, cap: int) -> bytes:
    """gzip data unpacked up to ``cap`` bytes; a bomb is refused, not unpacked."""
    out = bytearray()
    while data:
        unpacker = zlib.decompressobj(wbits=31)
        try:
            out += unpacker.decompress(data, cap + 1 - len(out))
        except zlib.error as exc:
            raise FetchError(f"{source}: not a valid gzip file ({exc})") from exc
        if len(out) > cap or unpacker.unconsumed_tail:
            raise FetchError(
                f"{source}: too large once decompressed (over {cap // _MEGABYTES} MB, a compression bomb?); not read"
            )
        data = unpacker.unused_data if unpacker.unused_data[:2] == b"\x1f\x8b" else b""
    return bytes(out)


def _refuse_binary(source: str, data: bytes) -> None:
    """HTML is text: NUL bytes (outside UTF-16) or a run of control bytes mean it is not."""
    head = data[:8192]
    if head.startswith(_UTF16_BOMS):
        return
    controls = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    if b"\x00" in head or controls > len(head) // 20:
        raise FetchError(f"{source}: not an HTML document (binary data); not read")


def _load(source: str, url: str | None) -> tuple[str, bytes, dict[str, str]]:
    if is_http_url(source):
        document = fetch_once(source, user_agent=USER_AGENT, max_bytes=DOWNLOAD_MAXSIZE)
        _refuse_binary(source, document.body)
        return document.final_url, document.body, document.headers
    path = Path(source)
    cap = DOWNLOAD_MAXSIZE  # the crawler's size cap, before and after decompression
    try:
        if path.stat().st_size > cap:
            raise FetchError(f"{source}: larger than the {cap // _MEGABYTES} MB size cap; not read")
        data = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"{source}: {exc.strerror or exc}") from exc
    if path.name.endswith(".gz") or data[:2] == b"\x1f\x8b":
        data = _decompressed(source, data, cap)
    _refuse_binary(source, data)
    return url or path.resolve().as_uri(), data, {}


def extract_one(source: str, url: str | None) -> tuple[str, Extraction | None, str | None]:
    """(source, extraction, error): runs in a worker process, so it returns, never raises."""
    try:
        page_url, body, headers = _load(source, url)
        return source, extract_article(page_url, body, headers), None
    except (FetchError, ExtractionError) as exc:
        return source, None, str(exc)
    except MemoryError:
        raise  # over its budget: the pool says so and replaces the worker
    except Exception as exc:  # noqa: BLE001 - one bad input must not end the run
        return source, None, f"{source}: unexpected {type(exc).__name__}: {exc}"


def format_extraction(extraction: Extraction) -> str:
    published = extraction.published.utc.isoformat() if extraction.published and extraction.published.utc else "-"
    lines = [
        extraction.headline or "(no headline)",
        f"by {extraction.byline or '-'} · published {published} · {extraction.word_count} words",
        f"access: {extraction.access} · complete: {'yes' if extraction.complete else 'no'}",
    ]
    if extraction.dek:
        lines.append(extraction.dek)
    lines += ["", extraction.text]
    return "\n".join(lines)


def run_extract(
    inputs: Sequence[str],
    *,
    url: str | None,
    as_json: bool,
    out_dir: str | None,
    jobs: int,
    settings: Any,
) -> int:
    if url is not None and len(inputs) > 1:
        raise UserError("--url names the source of one file; give one input with it")
    out = Path(out_dir) if out_dir else None
    if out is not None:
        refuse_name_collisions(inputs)
        prepare_out_dir(out)
    from palimpsest.crawler.workers import ExtractionPool

    # The crawler's budgets: each input in a worker process, under a time and a memory limit.
    pool = ExtractionPool(
        min(jobs, len(inputs)),
        time_limit=settings.getfloat("PALIMPSEST_EXTRACT_TIME_LIMIT"),
        memory_limit_mb=settings.getint("PALIMPSEST_EXTRACT_MEMORY_MB"),
    )
    try:
        pending = [(source, pool.submit(extract_one, source, url)) for source in inputs]
        return _report((_result(source, future) for source, future in pending), as_json, out)
    finally:
        pool.close()


def _result(source: str, future: Future[tuple[str, Extraction | None, str | None]]) -> tuple[str, Any, str | None]:
    """One input's (source, extraction, error): a page over budget is an error like another."""
    from palimpsest.crawler.workers import WorkerCrashed

    try:
        return future.result()
    except WorkerCrashed as exc:
        return source, None, f"{source}: {exc}"


def refuse_name_collisions(inputs: Sequence[str]) -> None:
    """Two inputs that would write the same ``<name>.txt``: one would overwrite the other."""
    seen: dict[str, str] = {}
    for source in inputs:
        name = f"{output_name(source)}.txt"
        if name in seen and seen[name] != source:
            raise UserError(
                f"--out: {seen[name]} and {source} would both write {name}; extract them into separate folders", 2
            )
        seen[name] = source


def prepare_out_dir(out: Path) -> None:
    """``--out`` exists as a writable folder (made if new), or one line says why not."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise UserError(f"--out: {out} is a file, not a folder", 2) from exc
    except OSError as exc:
        raise UserError(f"--out: cannot create {out}: {exc.strerror or exc}", 2) from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"--out: cannot write into {out}: permission denied", 2)


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--out: cannot write {path}: {exc.strerror or exc}") from exc


def _report(results: Any, as_json: bool, out: Path | None) -> int:
    failures = written = 0
    for index, (source, extraction, error) in enumerate(results):
        if error is not None:
            failures += 1
            print(f"palimpsest: {error}", file=sys.stderr)
            if out is None and as_json:
                print(json.dumps({"source": source, "error": error}, ensure_ascii=False))
            continue
        if out is not None:
            _write_text(out / f"{output_name(source)}.txt", extraction.text + "\n")
            written += 1
        if as_json:
            print(json.dumps({"source": source, **extraction.as_dict()}, ensure_ascii=False), flush=True)
        elif out is None:
            if index:
                print("\n" + "=" * 72 + "\n")
            print(format_extraction(extraction), flush=True)
    if out is not None and not as_json:
        print(f"wrote {written} text file{'s' if written != 1 else ''} to {out}", file=sys.stderr)
    return 1 if failures else 0


NAME = "extract"
HELP = "extraction only, no database"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="PATH_OR_URL", help=".html / .html.gz files, or http(s) URLs")
    parser.add_argument("--url", help="the URL a file was fetched from (for canonical links and metadata)")
    parser.add_argument("--json", action="store_true", help="one JSON object per input (JSON Lines)")
    parser.add_argument("--out", metavar="DIR", help="write <name>.txt (the article body) per input into DIR")
    parser.add_argument(
        "--jobs", type=bounded_int(1, 256), default=os.cpu_count() or 1, help="worker processes (default: all cores)"
    )


def run(args: argparse.Namespace) -> int:
    from palimpsest.crawler.runner import build_settings

    return run_extract(
        args.inputs, url=args.url, as_json=args.json, out_dir=args.out, jobs=args.jobs,
        settings=build_settings(args.settings),
    )  # fmt: skip
