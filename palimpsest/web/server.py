"""``palimpsest serve``: the web view under waitress, on an archive opened read-only.

Everything a user can get wrong (no database file, a database that is not an archive or not
at the current schema, a port in use) ends with one line, before anything is served.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from palimpsest.storage.db import DatabaseURLError, make_engine, redact, resolve_database_url

THREADS = 8


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_archive(url: str, user_error: Callable[..., Exception]) -> None:
    """The database exists, opens read-only and is at the schema head (it is never migrated here)."""
    from palimpsest.storage import migrate

    try:
        engine = make_engine(url, read_only=True)
    except DatabaseURLError as exc:
        raise user_error(f"cannot open database {redact(url)}: {exc}", 2) from exc
    except ModuleNotFoundError as exc:
        raise user_error(f"missing database driver ({exc.name}): pip install 'palimpsest[postgres]'") from exc
    try:
        current = migrate.current_revision(engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise user_error(f"cannot open database {redact(url)}: {reason}") from exc
    except SQLAlchemyError as exc:
        raise user_error(f"cannot read database {redact(url)}: {exc}") from exc
    finally:
        engine.dispose()
    head = migrate.head_revision()
    if current is None:
        raise user_error(f"{redact(url)} is not a palimpsest archive (no schema); crawl something first")
    if current != head:
        raise user_error(
            f"{redact(url)} is at schema revision {current}, not {head}: "
            "run palimpsest db upgrade (serve never migrates)"
        )


def serve(db: str | None, *, host: str, port: int, user_error: Callable[..., Exception]) -> int:
    """Serve until Ctrl-C; 0 then."""
    from waitress import create_server

    from palimpsest.web import create_app

    url = resolve_database_url(db)
    check_archive(url, user_error)
    app = create_app(url)
    try:
        server = create_server(app, host=host, port=port, threads=THREADS, ident="palimpsest")
    except OSError as exc:
        raise user_error(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
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
    return 0
