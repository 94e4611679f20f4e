"""Small page helpers shared by the solo page (``viz/app.py``) and the class game (``viz/class_app.py``)."""
from __future__ import annotations

import html
import re

import ipyvue
import solara
import traitlets


def md(text: str, tag: str = "div", classes: list[str] | None = None):
    """Minimal markup: **bold** and *italic*; headings via ``tag``; everything else escaped.

    (solara.Markdown would make the page fetch mermaid from a CDN, which a locked-down classroom
    network does not allow.)
    """
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"\*(.+?)\*", r"<i>\1</i>", out)
    out = out.replace("\n", "<br>")
    return solara.HTML(tag=tag, unsafe_innerHTML=out, classes=classes or [])


def html_table(frame, max_rows: int | None = None, cls: str = "geo-table") -> str:
    """``frame`` as an HTML table, every cell escaped."""
    if max_rows is not None:
        frame = frame.head(max_rows)
    return frame.to_html(index=False, border=0, classes=cls, escape=True)


@solara.component
def Figure(make, key, caption: str, name: str):
    """An inline SVG chart built once per ``key`` (run and quarter)."""
    data = solara.use_memo(make, dependencies=[key])
    with solara.Column(classes=["geo-view", f"geo-view-{name}"], gap="0px"):
        solara.HTML(tag="div", unsafe_innerHTML=data, classes=["geo-chart", f"geo-chart-{name}"])
        solara.Text(caption, classes=["geo-asof", f"geo-asof-{name}"])


class _PageLanguage(ipyvue.VueTemplate):
    """Sets ``<html lang>`` when mounted (Solara's page template has none; screen readers need it)."""

    template = traitlets.Unicode(
        "<template><span style='display:none'></span></template>"
        "<script>module.exports = { mounted() { document.documentElement.lang = this.lang; } };</script>"
    ).tag(sync=True)
    lang = traitlets.Unicode("en").tag(sync=True)


def PageLanguage(lang: str = "en"):
    """An invisible element that sets the page's language (``<html lang="en">``)."""
    return _PageLanguage.element(lang=lang)
