"""``palimpsest serve``: the web view under waitress, on an archive opened read-only.

Everything a user can get wrong (no database file, a database that is not an archive or not
at the current schema, a port in use) ends with one line, before anything is served.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from palimpsest.storage.db import DatabaseURLError, redact, resolve_database_url
from palimpsest.web.origin import PUBLIC_URL

THREADS = 8


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def open_archive(url: str, user_error: Callable[..., Exception]) -> Engine:
    """The archive, read-only: it exists and is at the schema head (it is never migrated here)."""
    from palimpsest.storage.opening import ArchiveUnavailable, database_reason, open_for_reading

    try:
        return open_for_reading(url)
    except (DatabaseURLError, ArchiveUnavailable) as exc:
        raise user_error(f"cannot serve {redact(url)}: {exc}", 2) from exc
    except ModuleNotFoundError as exc:
        raise user_error(f"missing database driver ({exc.name}): pip install 'palimpsest[postgres]'") from exc
    except SQLAlchemyError as exc:
        raise user_error(f"cannot open database {redact(url)}: {database_reason(exc)}") from exc


def serve(
    db: str | None,
    *,
    host: str,
    port: int,
    user_error: Callable[..., Exception],
    archive_dir: str = "archive",
    public_url: str | None = None,
    health: Any = None,
) -> int:
    """Serve until Ctrl-C; 0 then. ``health``: the outlet-health alert thresholds."""
    from waitress import create_server

    from palimpsest.web import build_app

    url = resolve_database_url(db)
    engine = open_archive(url, user_error)
    app = build_app(engine, archive_dir, health=health)
    try:
        server = create_server(app, host=host, port=port, threads=THREADS, ident="palimpsest")
    except OSError as exc:
        engine.dispose()
        raise user_error(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 2) from exc
    except ValueError as exc:  # waitress: a host name that does not resolve
        engine.dispose()
        raise user_error(f"cannot listen on {host}:{port}: not an address or a known host name", 2) from exc
    shown_host = f"[{host}]" if ":" in host else host
    if not is_loopback(host):
        print(
            f"palimpsest: warning: listening on {host}, not a loopback address: "
            "the archive is visible to anyone who can reach this machine",
            file=sys.stderr,
            flush=True,
        )
    # One listening socket has an effective port; several (a name with IPv4 and IPv6) list theirs.
    listening = getattr(server, "effective_listen", None) or [(host, server.effective_port)]
    bound_port = listening[0][1]
    # Absolute links (feeds, API) name this address, never the Host header a client sent.
    app.config[PUBLIC_URL] = public_url or f"http://{shown_host}:{bound_port}/"
    print(
        f"palimpsest: serving {redact(url)} read-only at http://{shown_host}:{bound_port}/ (Ctrl-C to stop)",
        flush=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        engine.dispose()
    return 0
