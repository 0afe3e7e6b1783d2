"""pywb for the tests that replay or backfill from a Wayback server: the ``pywb`` session
fixture (in conftest) and a ``wayback`` started on a free loopback port over some WARC files.

pywb pins redis 2.x, which cannot share an environment with ``palimpsest[redis]`` (redis >= 5),
so it runs from a virtual environment of its own: a ``wayback`` on PATH, else ``.venv-pywb``
(or ``$PALIMPSEST_PYWB_VENV``), made on first use. Tests skip only when pywb cannot be installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PYWB_VENV = Path(os.environ.get("PALIMPSEST_PYWB_VENV", REPO_ROOT / ".venv-pywb"))
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def pywb_tools() -> Path:
    """The folder holding ``wb-manager`` and ``wayback`` (installed on first use)."""
    on_path = shutil.which("wayback")
    if on_path and shutil.which("wb-manager"):
        return Path(on_path).parent
    tools = PYWB_VENV / "bin"
    if not (tools / "wayback").exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(PYWB_VENV)], check=True, timeout=300)
            subprocess.run(
                [str(tools / "pip"), "install", "--quiet", "pywb"], check=True, timeout=900, capture_output=True
            )
        except (OSError, subprocess.SubprocessError) as exc:
            shutil.rmtree(PYWB_VENV, ignore_errors=True)
            pytest.skip(f"pywb cannot be installed: {exc}")
    return tools


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_wayback(tools: Path, home: Path, collection: str, warcs: Sequence[Path]) -> Iterator[str]:
    """A pywb collection of these WARC files, served on loopback: yields ``http://127.0.0.1:PORT/COLL``
    (its CDX server is that plus ``/cdx``)."""
    home.mkdir(parents=True, exist_ok=True)
    for command in (["init", collection], ["add", collection, *map(str, warcs)]):
        done = subprocess.run(
            [str(tools / "wb-manager"), *command], cwd=home, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    port = free_port()
    log = home / "wayback.log"
    with log.open("wb") as output:
        wayback = subprocess.Popen(
            [str(tools / "wayback"), "--port", str(port), "--bind", "127.0.0.1"],
            cwd=home,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}/{collection}"
        deadline = time.monotonic() + 60
        while True:
            try:
                LOCAL.open(f"{base}/", timeout=30).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                assert wayback.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "wayback did not start"
                time.sleep(0.3)
        yield base
    finally:
        wayback.terminate()
        try:
            wayback.wait(timeout=20)
        except subprocess.TimeoutExpired:
            wayback.kill()
            wayback.wait(timeout=20)
