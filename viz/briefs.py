"""The teaching material in the app: ``/teaching`` (the files of ``docs/teaching``) and ``/brief``,
a printable role brief per country (its objectives, the deals it can offer, its page of
``docs/teaching/role_briefs.md``).

The files are read from the repository's ``docs/teaching`` folder and shown through a small
Markdown reader (:func:`markdown_html`) that escapes every character of the file before adding
its few tags: headings, paragraphs, lists, pipe tables, rules, bold, italic, code and links to the
other teaching files. (solara.Markdown would make the page fetch mermaid from a CDN, which a
locked-down classroom network does not allow.)
"""
from __future__ import annotations

import html
import re
import urllib.parse
from pathlib import Path

import solara

from geogame.model import COUNTRIES, COUNTRY_NAMES
from geogame.viz import deals

TEACHING_DIR = Path(__file__).resolve().parent.parent / "docs" / "teaching"
TEACHING_PATH = "/teaching"
BRIEF_PATH = "/brief"
#: The teaching files the app shows, in the order of docs/teaching/README.md.
DOCS = {"README": "Teaching with geogame", "lesson_plan": "A 50-minute lesson", "role_briefs": "Role briefs",
        "glossary": "Glossary", "discussion": "Discussion questions"}

PRINT_CSS = """
.geo-doc { max-width: 820px; font-size: 16px; line-height: 1.45; }
.geo-doc table { border-collapse: collapse; margin: 8px 0; }
.geo-doc td, .geo-doc th { border: 1px solid #999; padding: 4px 6px; vertical-align: top; }
.geo-doc code { background: #f3f3f3; padding: 0 3px; }
@media print {
  .geo-nav, .geo-nav-solo, .geo-nav-class, .geo-noprint, header, footer, .v-footer, .v-app-bar,
  .v-navigation-drawer { display: none !important; }
  .geo-doc { max-width: none; font-size: 12pt; }
  a { color: inherit; text-decoration: none; }
}
"""


def brief_url(country: str) -> str:
    """The address of ``country``'s printable brief."""
    return f"{BRIEF_PATH}?country={urllib.parse.quote(country)}"


def _inline(text: str) -> str:
    """One escaped line with bold, italic, code and links (links to other teaching files only)."""
    out = html.escape(text, quote=True)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", out)

    def link(m: re.Match) -> str:
        label, target = m.group(1), html.unescape(m.group(2))
        stem = target[:-3] if target.endswith(".md") else ""
        if stem in DOCS:
            return f"<a href='{TEACHING_PATH}?doc={stem}'>{label}</a>"
        return label  # a file outside the teaching folder: its name only
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", link, out)


def markdown_html(text: str) -> str:
    """A teaching file's Markdown as HTML; every character of the file is escaped first."""
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if para:
            out.append("<p>" + " ".join(_inline(x) for x in para) + "</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + "</ul>")
            items.clear()
        if table:
            head, *body = [r for r in table if not all(re.fullmatch(r"\s*:?-+:?\s*", c) for c in r)]
            rows = "".join("<tr>" + "".join(f"<td>{_inline(c.strip())}</td>" for c in r) + "</tr>" for r in body)
            out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c.strip())}</th>" for c in head)
                       + f"</tr></thead><tbody>{rows}</tbody></table>")
            table.clear()

    for line in text.splitlines():
        s = line.strip()
        if not s:
            flush()
        elif s.startswith("|") and s.endswith("|"):
            if para or items:
                flush()
            table.append(s[1:-1].split("|"))
        elif re.fullmatch(r"-{3,}", s):
            flush()
            out.append("<hr>")
        elif m := re.match(r"(#{1,6})\s+(.*)", s):
            flush()
            level = min(len(m.group(1)) + 1, 6)
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
        elif m := re.match(r"[*-]\s+(.*)", s):
            if para or table:
                flush()
            items.append(m.group(1))
        elif items and line.startswith("  "):
            items[-1] += " " + s
        else:
            if items or table:
                flush()
            para.append(s)
    flush()
    return "\n".join(out)


def read_doc(stem: str) -> str | None:
    """The text of ``docs/teaching/<stem>.md`` (None if the app runs without the repository's docs)."""
    if stem not in DOCS:
        return None
    try:
        return (TEACHING_DIR / f"{stem}.md").read_text(encoding="utf-8")
    except OSError:
        return None


def brief_section(country: str) -> str | None:
    """The part of role_briefs.md about ``country`` (from its ``## ...`` heading to the next)."""
    text = read_doc("role_briefs")
    if text is None:
        return None
    for part in re.split(r"(?m)^## ", text)[1:]:
        if COUNTRY_NAMES[country] in part.splitlines()[0]:
            return "## " + part.replace("\n---", "").strip()
    return None


def _commits(kind: str) -> str:
    """What an accepted deal commits the parties to, for a printed brief."""
    return deals.commitments_in_words(kind, "in that round", "in the round after")


def brief_html(country: str) -> str:
    """The printable brief of ``country``: objectives and deals from the game, then its page of the briefs."""
    name = html.escape(COUNTRY_NAMES[country])
    parts = [f"<h1>Role brief: {name}</h1>",
             "<h3>What you want (your objectives in the model; your score compares each with the AI in your seat)</h3>",
             "<ul>" + "".join(f"<li>{html.escape(w)}</li>" for w in deals.objectives_in_words(country)) + "</ul>"]
    offers = deals.deals_from(country)
    receives = [d for d in deals.DEALS.values() if d.receiver == country]
    if offers or receives:
        parts.append("<h3>Deals with other teams</h3><ul>")
        for d in offers:
            terms = "; ".join(f"{t.label} {t.show(t.low)} to {t.show(t.high)}" for t in d.terms)
            parts.append(f"<li>You can offer {html.escape(COUNTRY_NAMES[d.receiver])} {html.escape(d.title)}"
                         + (f" (you choose: {html.escape(terms)})" if terms else "")
                         + f"; if accepted, {html.escape(_commits(d.kind))}.</li>")
        for d in receives:
            parts.append(f"<li>{html.escape(COUNTRY_NAMES[d.proposer])} may offer you {html.escape(d.title)}; "
                         f"you accept or reject it in the round (if accepted, {html.escape(_commits(d.kind))}).</li>")
        parts.append("</ul>")
    section = brief_section(country)
    if section:
        parts.append(markdown_html(section))
    else:
        parts.append("<p>The longer brief is in docs/teaching/role_briefs.md of geogame.</p>")
    return "\n".join(parts)


def _query(name: str) -> str:
    router = solara.use_router()
    return urllib.parse.parse_qs(router.search or "").get(name, [""])[0]


@solara.component
def BriefPage():
    """``/brief?country=...``: one country's printable role brief (all four without a country)."""
    country = _query("country")
    solara.Title("geogame: role brief")
    solara.Style(PRINT_CSS)
    chosen = [country] if country in COUNTRIES else list(COUNTRIES)
    with solara.Column(style={"padding": "8px"}, classes=["geo-doc"]):
        solara.HTML(tag="div", classes=["geo-noprint"], unsafe_innerHTML=(
            "<button type='button' onclick='window.print()' class='geo-print'>Print this brief</button> "
            + " · ".join(f"<a href='{html.escape(brief_url(c))}'>{html.escape(COUNTRY_NAMES[c])}</a>"
                         for c in COUNTRIES) + f" · <a href='{TEACHING_PATH}'>All teaching material</a>"))
        for i, c in enumerate(chosen):
            solara.HTML(tag="div", classes=["geo-brief", f"geo-brief-{c}"],
                        style={"page-break-after": "always"} if i < len(chosen) - 1 else {},
                        unsafe_innerHTML=brief_html(c))


@solara.component
def TeachingPage():
    """``/teaching?doc=...``: the files of docs/teaching, readable and printable in the app."""
    stem = _query("doc") or "README"
    solara.Title("geogame: teaching material")
    solara.Style(PRINT_CSS)
    text = read_doc(stem)
    with solara.Column(style={"padding": "8px"}, classes=["geo-doc"]):
        solara.HTML(tag="div", classes=["geo-noprint", "geo-teaching-nav"], unsafe_innerHTML=" · ".join(
            f"<a href='{TEACHING_PATH}?doc={s}'>{html.escape(t)}</a>" for s, t in DOCS.items())
            + " · role briefs to print: " + ", ".join(
                f"<a href='{html.escape(brief_url(c))}'>{html.escape(COUNTRY_NAMES[c])}</a>" for c in COUNTRIES))
        if text is None:
            solara.Warning("The teaching files are in the folder docs/teaching of geogame; this copy of the app "
                           "runs without them.")
        else:
            solara.HTML(tag="div", classes=["geo-teaching"], unsafe_innerHTML=markdown_html(text))
