"""Bytes to an lxml tree, surviving the charsets the web actually serves.

Order of evidence: a byte-order mark, the Content-Type header, a ``<meta charset>`` in the
first bytes, then UTF-8 if the bytes are valid UTF-8, else windows-1252 (what browsers assume
for undeclared Western pages). A page declared UTF-8 whose bytes are not (a classic cp1252
CMS export) is decoded as windows-1252, and the note says so. A declaration that cannot be
right falls back the way browsers do, with a note: UTF-16 declared on ASCII-compatible bytes
(no byte-order mark) is read as UTF-8, and so is any other declared charset when the bytes are
valid multi-byte UTF-8.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
# Characters no text may hold (C0 controls but tab and newlines, non-characters, lone
# surrogates): lxml refuses them when text is moved, and no article needs them.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
# WHATWG: labels that browsers decode as windows-1252.
_WINDOWS_1252_ALIASES = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "cp1252"}
_PARSER = HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False)


@dataclass(frozen=True)
class DecodedPage:
    text: str
    encoding: str
    note: str | None = None  # set when the declared charset was wrong or missing


def _lookup(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _WINDOWS_1252_ALIASES:
        return "windows-1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charset(body: bytes, content_type: str | None) -> tuple[str | None, str | None]:
    """The charset the page claims, and where the claim came from (header or meta)."""
    header = _HEADER_CHARSET.search(content_type) if content_type else None
    if header and (encoding := _lookup(header.group(1))):
        return encoding, "header"
    meta = _META_CHARSET.search(body[:16384])
    if meta and (encoding := _lookup(meta.group(1).decode("ascii", "ignore"))):
        return encoding, "meta"
    return None, None


def decode_html(body: bytes, content_type: str | None = None) -> DecodedPage:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return DecodedPage(body[len(bom) :].decode(encoding, "replace"), encoding)
    declared, source = declared_charset(body, content_type)
    if declared in (None, "utf-8"):
        try:
            return DecodedPage(body.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            note = (
                f"declared utf-8 ({source}) but the bytes are not: decoded as windows-1252"
                if declared
                else "no charset declared and not utf-8: decoded as windows-1252"
            )
            return DecodedPage(body.decode("windows-1252", "replace"), "windows-1252", note)
    if declared.startswith("utf-16") or declared.startswith("utf-32"):
        # Without a byte-order mark, a page whose markup reads as ASCII is not UTF-16: browsers
        # take that declaration as UTF-8 (WHATWG "get an encoding" for meta; the same here).
        decoded = _as_utf8_or_1252(body)
        return DecodedPage(
            decoded.text, decoded.encoding, f"declared {declared} ({source}) on ASCII-compatible bytes: "
            f"decoded as {decoded.encoding}"
        )  # fmt: skip
    if not body.isascii() and _is_utf8(body):
        # Valid multi-byte UTF-8 is almost never text in another charset that happens to decode:
        # the declaration is the mistake (a template copied from elsewhere).
        return DecodedPage(
            body.decode("utf-8"), "utf-8", f"declared {declared} ({source}) but the bytes are utf-8: decoded as utf-8"
        )
    return DecodedPage(body.decode(declared, "replace"), declared)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _as_utf8_or_1252(body: bytes) -> DecodedPage:
    if _is_utf8(body):
        return DecodedPage(body.decode("utf-8"), "utf-8")
    return DecodedPage(body.decode("windows-1252", "replace"), "windows-1252")


class NotHTMLError(ValueError):
    """The bytes do not parse into an HTML document with any content."""


# libxml2 drops everything nested deeper than 255 elements: a page wrapped in 5,000 <div>s
# would parse to no text at all. No real page repeats one tag 64 times in a row, so when the
# parser says it gave up for depth, such runs (of openings, and of closings) are collapsed to
# one and the page parsed again (scanning every page for them would cost ~1 ms a page).
_NESTED_OPENINGS = re.compile(r"<([a-zA-Z][\w-]*)\b[^<>]*>(?:\s*<\1\b[^<>]*>){63,}")
_NESTED_CLOSINGS = re.compile(r"</([a-zA-Z][\w-]*)\s*>(?:\s*</\1\s*>){63,}")


def _flattened(text: str) -> str:
    if "<" not in text:
        return text
    return _NESTED_CLOSINGS.sub(r"</\1>", _NESTED_OPENINGS.sub(r"<\1>", text))


def _gave_up_for_depth() -> bool:
    return any("Excessive depth" in entry.message for entry in _PARSER.error_log)


def parse_html(text: str) -> HtmlElement:
    """An lxml HTML tree; raises NotHTMLError for empty or unparseable documents."""
    text = _NOT_TEXT.sub("", _XML_DECLARATION.sub("", text, count=1))
    if not text.strip():
        raise NotHTMLError("empty document")
    try:
        tree = document_fromstring(text, parser=_PARSER)
        if _gave_up_for_depth():
            tree = document_fromstring(_flattened(text), parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise NotHTMLError(f"unparseable HTML: {exc}") from exc
    if tree is None or len(tree) == 0:
        raise NotHTMLError("no HTML content")
    return tree
