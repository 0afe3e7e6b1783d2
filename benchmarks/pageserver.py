"""A loopback server for the benchmarks: N article pages at /p/<n>, from memory, with ETags.

Pages come from the Scrapinghub benchmark (../shared/eval, 181 real news pages, reused
round-robin up to N) when present, else from the newsroom's generator. It runs in a process
of its own so that serving does not share an interpreter with what is measured. Run:

    python -m benchmarks.pageserver --count 1000     # prints "port N" when ready
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "scrapinghub"


def source_pages() -> tuple[str, list[bytes]]:
    truth = EVAL / "ground-truth.json"
    if truth.exists():
        ids = sorted(json.loads(truth.read_text()))
        return "scrapinghub", [gzip.decompress((EVAL / "html" / f"{pid}.html.gz").read_bytes()) for pid in ids]
    from palimpsest.newsroom.generator import generated_pages

    return "newsroom generator", [body for _url, body in generated_pages(200)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            return self._send(200, b"User-agent: *\nDisallow:\n", "text/plain", None)
        if not self.path.startswith("/p/") or not self.path[3:].isdigit():
            return self._send(404, b"not found", "text/plain", None)
        number = int(self.path[3:])
        if number >= self.server.count:
            return self._send(404, b"not found", "text/plain", None)
        body, etag = self.server.pages[number % len(self.server.pages)]
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", None, etag)
        return self._send(200, body, "text/html; charset=utf-8", etag)

    def _send(self, status: int, body: bytes, content_type: str | None, etag: str | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, count: int) -> None:
        self.count = count
        self.source, bodies = source_pages()
        self.pages = [(body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"') for body in bodies]
        super().__init__(("127.0.0.1", 0), _Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    server = _Server(parser.parse_args().count)
    print(f"port {server.server_address[1]} source {server.source}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
