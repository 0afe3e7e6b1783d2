"""Pages rendered from the captured seed texts in ``../shared/seeds/`` (when that folder exists).

The seeds are text as captured (Markdown-ish: ``# headline``, ``**bold**``, ``[link](#)``,
``---`` rules). They are rendered as plainly as they read, every block a paragraph of one
``<article>``: no JSON-LD, no byline or caption markup. What the extractor gets right on them,
it gets right from the text alone. The seed texts are never copied into the repository.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]*)\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _inline(text: str) -> str:
    html = escape(text, quote=False)
    html = _LINK.sub(lambda m: f'<a href="{escape(m.group(2) or "#")}">{m.group(1)}</a>', html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    return html.replace("  \n", "<br>\n")


def seed_headline(text: str) -> str:
    for block in _blocks(text):
        heading = _HEADING.match(block)
        return heading.group(2).strip("* ") if heading else block.strip()
    return ""


def _blocks(text: str) -> list[str]:
    return [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


def render_seed(text: str) -> str:
    """A plain article page for one seed text."""
    parts: list[str] = []
    headline = seed_headline(text)
    for index, block in enumerate(_blocks(text)):
        if heading := _HEADING.match(block):
            level = min(len(heading.group(1)), 6)
            parts.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif index == 0:
            parts.append(f"<h1>{_inline(block.strip())}</h1>")  # a first line without '#' is the headline
        elif block.strip() == "---":
            parts.append("<hr>")
        else:
            parts.append(f"<p>{_inline(block)}</p>")
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{escape(headline)}</title></head>
<body>
<header><nav><a href="/">Home</a> <a href="/technology">Technology</a> <a href="/politics">Politics</a></nav></header>
<main><article>
{body}
</article></main>
<footer><p>Rendered by the palimpsest newsroom from a captured seed text.</p></footer>
</body>
</html>
"""


def load_seeds(directory: Path) -> dict[str, str]:
    """{stem: text} for the seed ``*.txt`` files (empty when the folder is absent)."""
    if not directory.is_dir():
        return {}
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.txt"))}
