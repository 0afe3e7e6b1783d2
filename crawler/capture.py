"""From a fetched page and its extraction to the archive's records (pure).

This is where a fetch is interpreted: which URL names the article, which outlet it belongs
to, whether the response is an article at all, and what the error says in plain words.
"""

from __future__ import annotations

from http import HTTPStatus

from palimpsest.crawler.extract import Extraction
from palimpsest.crawler.extract.urls import (
    BadURLError,
    canonical_url,
    cross_outlet_canonical,
    is_http_url,
    loose_variants,
    normalise_url,
    outlet_domain,
)
from palimpsest.crawler.items import FetchedPage
from palimpsest.storage.ingest import ExtractedVersion, FetchRecord
from palimpsest.storage.versioning import VersionContent

HTML_TYPES = ("text/html", "application/xhtml+xml")


def http_error_text(status: int) -> str:
    """'HTTP 503 Service Unavailable' (the phrase omitted for codes outside the standard)."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def is_html_content_type(content_type: str | None) -> bool:
    """Missing is allowed (the bytes are sniffed later); anything else must be HTML."""
    if not content_type:
        return True
    return content_type.split(";", 1)[0].strip().lower() in HTML_TYPES


def needs_extraction(page: FetchedPage) -> bool:
    """A 200 with an HTML body whose payload differs from the previous capture's."""
    return (
        page.failure is None
        and page.status == 200
        and bool(page.body)
        and is_html_content_type(page.content_type)
        and page.payload_digest != page.previous_digest
    )


def response_problem(page: FetchedPage) -> str | None:
    """Why a response that arrived is not an article, or None when it may be one."""
    if page.failure is not None or page.status is None:
        return None
    if page.status in (304, 404, 410):
        return None
    if page.status != 200:
        text = http_error_text(page.status)
        if page.retry_after:
            text += f" (asked to wait {page.retry_after:g}s: the next check is no earlier)"
        elif page.retries:
            text += f" (still failing after {page.retries} retr{'y' if page.retries == 1 else 'ies'})"
        return text
    if not page.body:
        return "empty response (HTTP 200 with no content)"
    if not is_html_content_type(page.content_type):
        return f"not an HTML page: {page.content_type.split(';', 1)[0].strip()}"
    return None


def _safe_normalise(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return normalise_url(url)
    except BadURLError:
        return None


def fetch_record(page: FetchedPage, extraction: Extraction | None) -> FetchRecord:
    requested = _safe_normalise(page.requested_url) or page.requested_url
    final = _safe_normalise(page.final_url) or requested
    declares_itself = False
    if extraction is not None:
        identity = canonical_url(final, extraction.canonical_url, extraction.og_url)
        declares_itself = any(
            (url := _safe_normalise(declared)) and outlet_domain(url) == outlet_domain(final)
            for declared in (extraction.canonical_url, extraction.og_url)
        )
        based_on = _safe_normalise(extraction.based_on_url) or cross_outlet_canonical(final, extraction.canonical_url)
    else:
        identity, based_on = final, None

    variants: list[tuple[str, str]] = [(requested, "requested")]
    if page.requested_url != requested and is_http_url(page.requested_url):
        variants.insert(0, (page.requested_url, "tracking"))  # as linked: tracking parameters and all
    variants += [(url, "redirect") for url in map(_safe_normalise, page.redirect_urls) if url]
    variants.append((final, "final"))
    if extraction is not None:
        for url, kind in ((extraction.og_url, "og"), (extraction.amp_url, "amp")):
            if (
                (normalised := _safe_normalise(url))
                and normalised != identity
                and outlet_domain(normalised) == outlet_domain(identity)
            ):
                variants.append((normalised, kind))
    variants.append((identity, "canonical"))

    outcome, error = None, None
    if page.failure is not None:
        outcome, error = page.failure_outcome or "error", page.failure
    elif problem := response_problem(page):
        outcome, error = "error", problem
    elif page.extraction_error is not None:
        outcome, error = "error", page.extraction_error
    elif page.status == 304:
        outcome = "not_modified"

    headers = page.headers
    length = headers.get("content-length")
    return FetchRecord(
        requested_url=requested,
        canonical_url=identity,
        outlet_domain=outlet_domain(identity),
        outlet_name=extraction.site_name if extraction is not None else None,
        fetched_at=page.fetched_at,
        final_url=final if page.status is not None and final != requested else None,  # None: no redirect
        url_variants=tuple(dict.fromkeys(variants)),
        duration_ms=page.duration_ms,
        http_status=page.status,
        content_type=page.content_type,
        content_length=len(page.body)
        if page.body is not None
        else (int(length) if length and length.isdigit() else None),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        payload_digest=page.payload_digest,
        warc_file=page.warc.file if page.warc else None,
        warc_offset=page.warc.offset if page.warc else None,
        warc_length=page.warc.length if page.warc else None,
        outcome=outcome,
        error=error,
        based_on_url=based_on,
        retry_after_seconds=page.retry_after,
        # Only a page that does not name itself can be recognised by its loose variants.
        loose_variants=tuple(loose_variants(identity)) if extraction is not None and not declares_itself else (),
        known_article_id=page.plan.get("article_id"),
    )


# The longest headline, dek and byline kept: a real one is a line or two; a 3 MB "headline"
# (the whole page in a <title>) would make every page that shows it megabytes long.
FIELD_MAX_CHARS = {"headline": 1000, "dek": 3000, "byline": 500}


def _bounded(name: str, value: str | None, notes: list[str]) -> str | None:
    limit = FIELD_MAX_CHARS[name]
    if value is None or len(value) <= limit:
        return value
    notes.append(f"{name} cut to {limit} characters (it had {len(value)})")
    return value[: limit - 1].rstrip() + "…"


def extracted_version(extraction: Extraction) -> ExtractedVersion:
    notes = list(extraction.notes)
    headline = _bounded("headline", extraction.headline, notes)
    dek = _bounded("dek", extraction.dek, notes)
    byline = _bounded("byline", extraction.byline, notes)
    content = VersionContent.of(headline, dek, byline, extraction.text)
    published, modified = extraction.published, extraction.modified
    # The text is stored as published (typographic quotes and all); only the hash is taken
    # over the normalised form, so that quote or whitespace churn is not a new version.
    return ExtractedVersion(
        headline=headline,
        dek=dek,
        byline=byline,
        text=extraction.text,
        content_hash=content.content_hash,
        word_count=extraction.word_count,
        extractor=extraction.extractor,
        captions=extraction.captions,
        published_at=published.utc if published else None,
        published_raw=published.raw if published else None,
        published_source=published.source if published else None,
        modified_at=modified.utc if modified else None,
        modified_raw=modified.raw if modified else None,
        modified_source=modified.source if modified else None,
        language=extraction.language,
        access=extraction.access,
        complete=extraction.complete,
        # Notes on how the page was read (a charset that could not be right, a field cut to its
        # maximum length) travel with the paywall evidence, so each version says how it was read.
        evidence=[dict(item) for item in extraction.evidence] + [{"kind": "note", "note": note} for note in notes],
        links=tuple(dict.fromkeys(url for url in map(_safe_normalise, extraction.links) if url)),
        page_type=extraction.page_type,
        page_reason=extraction.page_reason,
    )
