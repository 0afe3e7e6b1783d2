"""Absolute links from the web view's own configuration, never from the request.

Feeds and API answers carry absolute URLs. Flask builds them from the request's Host header,
which any client sets at will: a crafted Host would then be reflected into links others follow
(a feed reader, a cache). So the app is given its public address (``serve --public-url``, or
the address it listens on) and every request is seen as addressed to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

PUBLIC_URL = "PALIMPSEST_PUBLIC_URL"


def check_public_url(url: str) -> str | None:
    """None when ``url`` can be the view's public address, else what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "an http:// or https:// URL with a host, such as https://archive.example.org/"
    if parts.query or parts.fragment or "@" in parts.netloc:
        return "a URL without user, query or fragment"
    return None


def fixed_origin(app: Any) -> None:
    """Wrap ``app.wsgi_app``: when ``app.config[PUBLIC_URL]`` is set, the scheme, host and
    path prefix of every request are those of that URL, whatever the client sent."""
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        base = app.config.get(PUBLIC_URL)
        if base:
            parts = urlsplit(base)
            environ["wsgi.url_scheme"] = parts.scheme
            environ["HTTP_HOST"] = parts.netloc
            environ["SCRIPT_NAME"] = parts.path.rstrip("/")
            environ.pop("HTTP_X_FORWARDED_HOST", None)
        return inner(environ, start_response)

    app.wsgi_app = wsgi
