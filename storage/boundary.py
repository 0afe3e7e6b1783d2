"""Text made safe for every database at the storage boundary.

PostgreSQL refuses a NUL character in text and JSON, and a lone surrogate cannot be encoded
as UTF-8 at all; SQLite takes both. A server can send either (a NUL in an ETag header, a
broken entity in a headline), and one such byte used to cost the whole capture on PostgreSQL.
So whatever a capture brings is cleaned here, the same on both databases; the WARC record
keeps the bytes exactly as they were received.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

T = TypeVar("T")

_REFUSED = re.compile("[\x00\ud800-\udfff]")


def safe_text(value: str) -> str:
    """The text without the characters a database refuses (NUL, lone surrogates)."""
    return _REFUSED.sub("", value) if _REFUSED.search(value) else value


def _cleaned_value(value: Any) -> Any:
    """The value with its texts made safe: the very same object when nothing needed it (a
    capture is checked on every store, and almost every one is clean)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, tuple | list):
        items = [_cleaned_value(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        pairs = [(_cleaned_value(key), _cleaned_value(item)) for key, item in value.items()]
        if all(
            key is old_key and item is old for (key, item), (old_key, old) in zip(pairs, value.items(), strict=True)
        ):
            return value
        return dict(pairs)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return cleaned(value)
    return value


def cleaned(record: T) -> T:
    """A copy of a (frozen) dataclass record with every text inside it made safe; the record
    itself when nothing needed cleaning."""
    changes = {}
    for item in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, item.name)
        new = _cleaned_value(value)
        if new is not value:
            changes[item.name] = new
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[type-var]


def fitted(record: T, limits: dict[str, int]) -> T:
    """A copy of a dataclass record whose named text fields are cut to their column's length."""
    changes = {
        name: value[:limit]
        for name, limit in limits.items()
        if isinstance(value := getattr(record, name), str) and len(value) > limit
    }
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[type-var]
