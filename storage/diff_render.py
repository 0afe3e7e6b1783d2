"""Text and HTML renderings of a ``storage.diffing.VersionDiff`` (pure).

Article text is untrusted input: the terminal rendering shows control characters as escapes,
the HTML rendering escapes everything and runs no script.
"""

from __future__ import annotations

import html
import re

from palimpsest.storage.diffing import (
    ParagraphDiff,
    VersionDiff,
    WordOp,
)

__all__ = ["render_html", "render_html_inline", "render_html_table", "render_text"]


# --- Terminal rendering -------------------------------------------------------------------
# Article text is untrusted: control characters (an ESC could restyle or rewrite the
# terminal) and bidi overrides are shown as escapes instead of being sent raw.
_TERMINAL_UNSAFE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ANSI_DELETE = "\x1b[31;9m"  # red, struck through
_ANSI_INSERT = "\x1b[32;4m"  # green, underlined (tells them apart without colour too)
_ANSI_HEADER = "\x1b[1m"
_ANSI_RESET = "\x1b[0m"


def _terminal_safe(text: str) -> str:
    return _TERMINAL_UNSAFE_RE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
        text,
    )


def _split_outer_space(span: str) -> tuple[str, str, str]:
    """(leading whitespace, text, trailing whitespace): markers go round the text only."""
    core = span.strip()
    if not core:
        return span, "", ""
    start = span.index(core)
    return span[:start], core, span[start + len(core) :]


def _mark(span: str, *, inserted: bool, color: bool) -> str:
    lead, core, trail = _split_outer_space(_terminal_safe(span))
    if not core:
        return lead
    if color:
        return f"{lead}{_ANSI_INSERT if inserted else _ANSI_DELETE}{core}{_ANSI_RESET}{trail}"
    return f"{lead}{{+{core}+}}{trail}" if inserted else f"{lead}[-{core}-]{trail}"


def _render_ops_text(ops: tuple[WordOp, ...], color: bool) -> str:
    parts: list[str] = []
    for op in ops:
        if op.op == "equal":
            parts.append(_terminal_safe(op.new))
        elif op.op == "delete":
            parts.append(_mark(op.old, inserted=False, color=color))
        elif op.op == "insert":
            parts.append(_mark(op.new, inserted=True, color=color))
        else:
            deleted = _mark(op.old.rstrip(), inserted=False, color=color)
            parts.append(deleted + _mark(op.new, inserted=True, color=color).lstrip())
    return "".join(parts)


def _paragraph_label(paragraph: ParagraphDiff) -> str:
    if paragraph.op == "insert":
        return f"¶{paragraph.new_index + 1} added"
    if paragraph.op == "delete":
        return f"old ¶{paragraph.old_index + 1} removed"
    label = f"¶{paragraph.new_index + 1}"
    if paragraph.op == "replace":
        label += " edited"
        if paragraph.old_index != paragraph.new_index:
            label += f" (was ¶{paragraph.old_index + 1})"
    return label


def _elided(count: int) -> str:
    return f"… {count} unchanged paragraph{'s' if count != 1 else ''} …"


def render_text(diff: VersionDiff, *, color: bool) -> str:
    """A terminal diff in wdiff style: [-deleted-] {+inserted+}, or ANSI colours."""

    def header(text: str) -> str:
        return f"{_ANSI_HEADER}{text}{_ANSI_RESET}" if color else text

    lines = [f"changes: {', '.join(diff.kinds) or 'none'} (similarity {diff.similarity:.4f})"]
    if diff.old_access != diff.new_access:
        lines.append(f"access: {diff.old_access} -> {diff.new_access}")
    if diff.old_complete != diff.new_complete:
        yes_no = {True: "complete", False: "partial"}
        lines.append(f"text: {yes_no[diff.old_complete]} -> {yes_no[diff.new_complete]}")
    for field_diff in diff.fields:
        if field_diff.changed:
            lines += ["", header(f"{field_diff.name}:"), _render_ops_text(field_diff.ops, color)]
    if diff.body_changed:
        lines += ["", header("body:")]
        changed = [p.op != "equal" for p in diff.body]
        shown = [
            changed[k] or (k > 0 and changed[k - 1]) or (k + 1 < len(changed) and changed[k + 1])
            for k in range(len(changed))
        ]
        hidden = 0
        for position, paragraph in enumerate(diff.body):
            if not shown[position]:
                hidden += 1
                continue
            if hidden:
                lines += [_elided(hidden), ""]
                hidden = 0
            lines += [
                header(_paragraph_label(paragraph)),
                _render_ops_text(paragraph.ops, color),
                "",
            ]
        if hidden:
            lines.append(_elided(hidden))
        elif lines[-1] == "":
            lines.pop()
    return "\n".join(lines) + "\n"


# --- HTML rendering -----------------------------------------------------------------------
_HTML_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:80rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem}
.kinds span{display:inline-block;background:#eef;border-radius:.3rem;padding:0 .4rem;margin:0 .2rem}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border:1px solid #ddd;padding:.4rem .6rem;vertical-align:top;text-align:left}
td{white-space:pre-wrap;overflow-wrap:anywhere}
col.label{width:8rem}
thead th{background:#f4f4f4}
tr.section th{background:#f4f4f4;font-size:1.1rem}
tr.same td{color:#777}
.absent{color:#999;font-style:italic}
del{background:#fdd;color:#900;text-decoration:line-through}
ins{background:#dfd;color:#060;text-decoration:none}
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _html_side(ops: tuple[WordOp, ...], *, new_side: bool, absent: bool) -> str:
    """One column: the equal spans plus this side's changes marked with <del> or <ins>."""
    if absent:
        return '<span class="absent">(none)</span>'
    parts: list[str] = []
    for op in ops:
        if op.op == "equal":
            parts.append(_esc(op.new if new_side else op.old))
        elif new_side and op.op in ("insert", "replace"):
            parts.append(f"<ins>{_esc(op.new)}</ins>")
        elif not new_side and op.op in ("delete", "replace"):
            parts.append(f"<del>{_esc(op.old)}</del>")
    return "".join(parts)


def _html_row(label: str, old_cell: str, new_cell: str, changed: bool) -> str:
    css = "changed" if changed else "same"
    return f'<tr class="{css}"><th scope="row">{_esc(label)}</th><td>{old_cell}</td><td>{new_cell}</td></tr>'


def render_html(diff: VersionDiff, *, title: str, old_label: str, new_label: str) -> str:
    """One self-contained HTML5 page, old and new side by side; all text escaped (untrusted)."""
    kinds = "".join(f"<span>{_esc(kind)}</span>" for kind in diff.kinds) or "<span>none</span>"
    rows: list[str] = []
    for f in diff.fields:
        rows.append(
            _html_row(
                f.name.capitalize(),
                _html_side(f.ops, new_side=False, absent=f.old is None),
                _html_side(f.ops, new_side=True, absent=f.new is None),
                f.changed,
            )
        )
    rows.append(
        _html_row(
            "Access",
            _esc(diff.old_access),
            _esc(diff.new_access),
            diff.old_access != diff.new_access,
        )
    )
    rows.append(
        _html_row(
            "Complete",
            "yes" if diff.old_complete else "no",
            "yes" if diff.new_complete else "no",
            diff.old_complete != diff.new_complete,
        )
    )
    rows.append('<tr class="section"><th scope="rowgroup" colspan="3">Body</th></tr>')
    for p in diff.body:
        label = _paragraph_label(p)
        rows.append(
            _html_row(
                label,
                "" if p.op == "insert" else _html_side(p.ops, new_side=False, absent=False),
                "" if p.op == "delete" else _html_side(p.ops, new_side=True, absent=False),
                p.op != "equal",
            )
        )
    if not diff.body:
        rows.append(_html_row("", '<span class="absent">(empty)</span>', "", False))
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html>",
            "<head>",
            '<meta charset="utf-8">',
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
            '<meta name="referrer" content="no-referrer">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(title)}</title>",
            f"<style>{_HTML_STYLE}</style>",
            "</head>",
            "<body>",
            f"<h1>{_esc(title)}</h1>",
            f'<p class="kinds">Changes: {kinds} · similarity {diff.similarity:.4f}</p>',
            '<table><colgroup><col class="label"><col><col></colgroup>',
            f'<thead><tr><th scope="col">Field</th><th scope="col">{_esc(old_label)}</th>'
            f'<th scope="col">{_esc(new_label)}</th></tr></thead>',
            "<tbody>",
            *rows,
            "</tbody>",
            "</table>",
            "</body>",
            "</html>",
            "",
        ]
    )


# --- HTML fragments (the web view embeds them in its own pages) ---------------------------
def render_html_table(diff: VersionDiff, *, old_label: str, new_label: str) -> str:
    """Old and new side by side: one ``<table>`` (headline, dek, byline, access, body), escaped."""
    rows = [
        _html_row(
            f.name.capitalize(),
            _html_side(f.ops, new_side=False, absent=f.old is None),
            _html_side(f.ops, new_side=True, absent=f.new is None),
            f.changed,
        )
        for f in diff.fields
    ]
    rows.append(_html_row("Access", _esc(diff.old_access), _esc(diff.new_access), diff.old_access != diff.new_access))
    rows.append(
        _html_row(
            "Complete",
            "yes" if diff.old_complete else "no",
            "yes" if diff.new_complete else "no",
            diff.old_complete != diff.new_complete,
        )
    )
    rows.append('<tr class="section"><th scope="rowgroup" colspan="3">Body</th></tr>')
    for p in diff.body:
        rows.append(
            _html_row(
                _paragraph_label(p),
                "" if p.op == "insert" else _html_side(p.ops, new_side=False, absent=False),
                "" if p.op == "delete" else _html_side(p.ops, new_side=True, absent=False),
                p.op != "equal",
            )
        )
    if not diff.body:
        rows.append(_html_row("", '<span class="absent">(empty)</span>', "", False))
    return "\n".join(
        [
            '<table class="side-by-side"><colgroup><col class="label"><col><col></colgroup>',
            f'<thead><tr><th scope="col">Field</th><th scope="col">{_esc(old_label)}</th>'
            f'<th scope="col">{_esc(new_label)}</th></tr></thead>',
            "<tbody>",
            *rows,
            "</tbody>",
            "</table>",
        ]
    )


def _html_inline(ops: tuple[WordOp, ...]) -> str:
    """One text with deletions and insertions marked in place (whitespace outside the marks)."""
    parts: list[str] = []
    for op in ops:
        if op.op == "equal":
            parts.append(_esc(op.new))
            continue
        old_lead, old_core, old_trail = _split_outer_space(op.old)
        new_lead, new_core, new_trail = _split_outer_space(op.new)
        if op.op == "delete":
            parts.append(f"{_esc(old_lead)}<del>{_esc(old_core)}</del>{_esc(old_trail)}" if old_core else "")
        elif op.op == "insert":
            parts.append(f"{_esc(new_lead)}<ins>{_esc(new_core)}</ins>{_esc(new_trail)}" if new_core else "")
        else:
            parts.append(f"{_esc(old_lead)}<del>{_esc(old_core)}</del> <ins>{_esc(new_core)}</ins>{_esc(new_trail)}")
    return "".join(parts)


def render_html_inline(diff: VersionDiff, *, context: int = 1) -> str:
    """One column, deletions and insertions in place: each field, then the changed paragraphs
    with ``context`` unchanged ones around them (the rest counted, not shown); escaped."""
    blocks: list[str] = []
    for f in diff.fields:
        css = "changed" if f.changed else "same"
        text = '<span class="absent">(none)</span>' if f.old is None and f.new is None else _html_inline(f.ops)
        blocks.append(f'<div class="field {css}"><h3>{_esc(f.name.capitalize())}</h3><p>{text}</p></div>')
    if diff.old_access != diff.new_access or diff.old_complete != diff.new_complete:
        yes_no = {True: "complete", False: "partial"}
        blocks.append(
            '<div class="field changed"><h3>Access</h3>'
            f"<p><del>{_esc(diff.old_access)}, {yes_no[diff.old_complete]}</del> "
            f"<ins>{_esc(diff.new_access)}, {yes_no[diff.new_complete]}</ins></p></div>"
        )
    changed = [p.op != "equal" for p in diff.body]
    shown = [any(changed[max(0, k - context) : k + context + 1]) for k in range(len(changed))]
    body: list[str] = []
    hidden = 0
    for position, paragraph in enumerate(diff.body):
        if not shown[position]:
            hidden += 1
            continue
        if hidden:
            body.append(f'<p class="elided">{_esc(_elided(hidden))}</p>')
            hidden = 0
        css = "changed" if paragraph.op != "equal" else "same"
        body.append(
            f'<div class="paragraph {css}"><h4>{_esc(_paragraph_label(paragraph))}</h4>'
            f"<p>{_html_inline(paragraph.ops)}</p></div>"
        )
    if hidden:
        body.append(f'<p class="elided">{_esc(_elided(hidden))}</p>')
    if not diff.body:
        body.append('<p class="absent">(empty)</p>')
    blocks.append('<div class="body"><h3>Body</h3>' + "\n".join(body) + "</div>")
    return '<div class="inline-diff">\n' + "\n".join(blocks) + "\n</div>"
