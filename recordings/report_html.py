"""The clinical report as one self-contained HTML page (plots embedded as PNG)."""

from __future__ import annotations

import base64
import html
import io

from matplotlib.figure import Figure

from recordings.report import MISSING_TITLE, ClinicalReport, Table


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _pairs(pairs: list[tuple[str, str]], css_id: str) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in pairs)
    return f"<table id='{css_id}' class='pairs'>{rows}</table>"


def _attrs(data: dict[str, str]) -> str:
    return "".join(f" data-{name}='{html.escape(value)}'" for name, value in data.items())


def _table(table: Table, folded: bool = False) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for k, row in enumerate(table.rows):
        data = table.data[k] if k < len(table.data) else {}
        attrs = _attrs(data)
        css = " class='flag'" if k in table.flagged else ""
        cells = "".join(
            f"<td{_attrs(table.cell_data.get((k, j), {}))}>{html.escape(c)}</td>" for j, c in enumerate(row)
        )
        body.append(f"<tr{css}{attrs}>{cells}</tr>")
    out = f"<table id='{table.css_id}'><tr>{head}</tr>{''.join(body)}</table>"
    if table.note:
        out += f"<p class='note'>{html.escape(table.note)}</p>"
    if folded:
        return f"<details><summary>{html.escape(table.title)} ({len(table.rows)})</summary>{out}</details>"
    return f"<h2>{html.escape(table.title)}</h2>{out}"


def _missing(notes: list[str]) -> str:
    """The banner saying what is missing from the recording ('' when nothing is)."""
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (
        f"<div id='missing' role='alert'><strong>{html.escape(MISSING_TITLE)}</strong><ul>{items}</ul></div>"
    )


def to_html(report: ClinicalReport) -> str:
    flags = "".join(f"<li>{html.escape(f)}</li>" for f in report.flags) or "<li>none</li>"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(report.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
        _missing(report.missing),
        "<section id='page1'>",
        _pairs(report.header, "session"),
        _table(report.summary),
        "<h2>Patient-reported outcomes</h2>",
        _pairs(report.outcomes, "outcomes"),
        f"<h2>Flags</h2><ul id='flags'>{flags}</ul>",
        "</section>",
    ]
    for table in report.details:
        parts.append(_table(table, folded=table.css_id == "repetitions"))
    for caption, figure in report.figures:
        parts.append(
            f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{_png(figure)}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts.append(f"<footer>{html.escape(report.footer)}</footer></body></html>")
    return "\n".join(parts)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 62em; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.95em; } td, th { padding: 0.25em 0.6em; text-align: left;
  vertical-align: top; }
table#summary tr:nth-child(even), table#measures tr:nth-child(even), table#comparison tr:nth-child(even)
  { background: #f4f4f4; }
tr.flag td { background: #fde2c8 !important; font-weight: 600; }
summary { color: #555; margin: 0.6em 0; cursor: pointer; } p.note { color: #666; font-size: 0.85em; }
table.pairs th { color: #555; font-weight: normal; } figure { margin: 1.5em 0; } img { max-width: 100%; }
ul#flags li { margin: 0.2em 0; }
div#missing { background: #fde2c8; border-left: 0.4em solid #c0392b; padding: 0.6em 1em; margin: 1em 0; }
div#missing ul { margin: 0.4em 0 0 0; }
figcaption { color: #555; font-size: 0.9em; } footer { margin-top: 2em; color: #999; font-size: 0.8em; }
"""
