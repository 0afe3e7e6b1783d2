"""URL identity: which URL names an article, and which outlet publishes it (pure).

Variants collapse conservatively: scheme and host case, default ports, fragments and tracking
parameters never change what a server returns, so they are dropped before anything is stored
or compared. Everything else (``www.``, trailing slashes, AMP paths) collapses only on the
site's own evidence: a redirect, ``rel=canonical``, ``og:url``.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

from tld import get_fld
from tld.exceptions import TldBadUrl, TldDomainNotFound

# Query parameters that only say where a reader came from. Exact names, then prefixes.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
        "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "cmpid", "ocid", "smid", "smtyp", "ref_src",
        "s_cid", "ito", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
        "xtor", "guccounter", "__twitter_impression", "fromrss", "traffic_source",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "at_", "__hs", "oly_", "vero_", "sc_")


class BadURLError(ValueError):
    """Not an absolute http(s) URL."""


def join_url(base: str, href: str | None) -> str | None:
    """``urljoin`` for text from untrusted pages: None instead of an exception for a link that
    cannot be a URL (``http://<[x`` makes urljoin raise ValueError)."""
    if not href or not href.strip():
        return None
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return None


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def normalise_url(url: str) -> str:
    """The URL with host case, default port, fragment and tracking parameters normalised away.

    Raises BadURLError for anything that is not an absolute http(s) URL.
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadURLError(f"not a valid URL: {url!r}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise BadURLError(f"not an http(s) URL: {url!r}")
    host = parts.hostname.lower().rstrip(".")
    if not host or any(ch in host for ch in " <>\"'{}|\\^`"):
        raise BadURLError(f"not a valid host in {url!r}")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path or "/"), safe="/%:@!$&'()*+,;=~-._")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def is_http_url(url: str) -> bool:
    try:
        normalise_url(url)
    except BadURLError:
        return False
    return True


def outlet_domain(url: str) -> str:
    """The registered domain (``www.nytimes.com`` -> ``nytimes.com``); the bare host for IPs."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        return get_fld(f"http://{host}/", fix_protocol=False)
    except (TldDomainNotFound, TldBadUrl, ValueError):
        return host


def same_outlet(url_a: str, url_b: str) -> bool:
    return outlet_domain(url_a) == outlet_domain(url_b)


def canonical_url(final_url: str, declared: str | None = None, og_url: str | None = None) -> str:
    """The URL that names the article fetched at ``final_url``.

    The page's own ``rel=canonical`` (else ``og:url``) wins when it stays on the same outlet
    and does not point at a section front; a canonical on another domain marks syndication,
    and the copy keeps its own URL.
    """
    final = normalise_url(final_url)
    for candidate in (declared, og_url):
        if not candidate:
            continue
        try:
            normalised = normalise_url(candidate)
        except BadURLError:
            continue
        if not same_outlet(normalised, final):
            continue
        if urlsplit(normalised).path in ("", "/") and urlsplit(final).path not in ("", "/"):
            continue  # a canonical pointing at the home page is a template bug
        return normalised
    return final


def cross_outlet_canonical(final_url: str, declared: str | None) -> str | None:
    """A canonical link on another outlet: this page is a syndicated or wire copy of it."""
    if not declared:
        return None
    try:
        normalised = normalise_url(declared)
    except BadURLError:
        return None
    return None if same_outlet(normalised, final_url) else normalised


def loose_variants(url: str) -> list[str]:
    """The same address with and without ``www.``, http or https, a trailing slash.

    Sites often answer on all of them without a redirect or a canonical link; the archive then
    recognises the article by these variants plus identical text (storage.ingest).
    """
    parts = urlsplit(url)
    host = parts.netloc.removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    paths = {path, path + "/"} if path != "/" else {"/"}
    return sorted(
        {
            urlunsplit((scheme, netloc, p, parts.query, ""))
            for scheme in ("http", "https")
            for netloc in (host, f"www.{host}")
            for p in paths
        }
        - {url}
    )
