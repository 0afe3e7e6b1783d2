"""Bytes a server gets wrong (issue 20): charset declarations that cannot be right, and
characters a database refuses, handled the same on SQLite and PostgreSQL."""

from __future__ import annotations

import codecs

from palimpsest.crawler.extract.decode import decode_html
from palimpsest.storage.boundary import cleaned, fitted, safe_text
from palimpsest.storage.ingest import ExtractedVersion

PAGE = "<html><head><title>Café</title></head><body><p>“naïve” façade</p></body></html>"


def test_utf16_declared_on_ascii_compatible_bytes_is_read_as_utf8_with_a_note():
    decoded = decode_html(PAGE.encode("utf-8"), "text/html; charset=utf-16")
    assert decoded.encoding == "utf-8" and "“naïve” façade" in decoded.text
    assert decoded.note == "declared utf-16 (header) on ASCII-compatible bytes: decoded as utf-8"


def test_real_utf16_with_a_byte_order_mark_is_still_utf16():
    decoded = decode_html(codecs.BOM_UTF16_LE + PAGE.encode("utf-16-le"), "text/html; charset=utf-16")
    assert decoded.encoding == "utf-16-le" and "façade" in decoded.text and decoded.note is None


def test_a_declared_charset_the_utf8_bytes_are_not_falls_back_to_utf8():
    body = PAGE.replace("<head>", '<head><meta charset="shift_jis">').encode("utf-8")
    decoded = decode_html(body)
    assert decoded.encoding == "utf-8" and "“naïve” façade" in decoded.text
    assert decoded.note == "declared shift_jis (meta) but the bytes are utf-8: decoded as utf-8"


def test_a_page_really_in_its_declared_charset_is_left_alone():
    decoded = decode_html(PAGE.encode("cp1252"), "text/html; charset=windows-1252")
    assert decoded.encoding == "cp1252" and "“naïve” façade" in decoded.text and decoded.note is None
    japanese = "<html><body><p>東京の天気</p></body></html>"
    decoded = decode_html(japanese.encode("shift_jis"), "text/html; charset=shift_jis")
    assert decoded.encoding == "shift_jis" and "東京の天気" in decoded.text and decoded.note is None


def test_refused_characters_are_removed_everywhere_in_a_record():
    assert safe_text("a\x00b\ud800c") == "abc"
    version = ExtractedVersion(
        headline="Head\x00line", dek=None, byline="By\x00 X", text="Body \x00text", content_hash="h",
        word_count=2, extractor="t", evidence=[{"note": "n\x00ote", "nested": ["x\x00"]}], links=("http://a/\x00",),
    )  # fmt: skip
    clean = cleaned(version)
    assert (clean.headline, clean.byline, clean.text) == ("Headline", "By X", "Body text")
    assert clean.evidence == [{"note": "note", "nested": ["x"]}] and clean.links == ("http://a/",)
    assert cleaned(clean) is clean  # nothing to clean: the same record
    assert fitted(clean, {"headline": 4}).headline == "Head"
