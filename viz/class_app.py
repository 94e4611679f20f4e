"""The class game in the browser: the lobby, the teacher's console and projector, the seat view.

Every page of a game reads the one shared :class:`~geogame.viz.classroom.ClassGame` (through its
cached ``shared_view``/``seat_view`` snapshots, never the model itself while it steps). Each page
registers a listener on its game that sets the page's own state inside the page's kernel context,
so every screen re-renders when a student moves or a round resolves, without a reload.
"""
from __future__ import annotations

import contextlib
import html
import ipaddress
import os
import socket
import threading
import time
import urllib.parse

import pandas as pd
import reacton.core
import solara

from geogame.model import COUNTRIES, COUNTRY_NAMES, InputError, preset_names
from geogame.viz import deals, svg
from geogame.viz.briefs import TEACHING_PATH, brief_url
from geogame.viz.classroom import POLICIES, ClassError, ClassGame, normalise_code, registry
from geogame.viz.session import HEADLINES, fmt, fmt_change, one_line
from geogame.viz.widgets import Figure, html_table, md

CLASS_URL_ENV = "GEOGAME_CLASS_URL"
ANY_COUNTRY = "any (the game assigns one)"
#: A browser session that gets this many codes wrong in a row waits :data:`LOCKOUT_SECONDS`.
MAX_FAILED_CODES = 10
LOCKOUT_SECONDS = 60.0

# browser session id -> (game code, teacher key): a reload of the console keeps it (this process
# only: after a server restart the teacher types the key again; the key is never written to disk)
_teacher_sessions: dict[str, tuple[str, str]] = {}
# browser session id -> (failed attempts, time of the last one)
_failures: dict[str, tuple[int, float]] = {}
_lock = threading.Lock()

CSS = """
.geo-class-code { font-size: 44px; font-weight: 800; letter-spacing: 6px; color: #0d47a1; }
.geo-class-quarter { font-size: 32px; font-weight: 700; color: #1a237e; }
.geo-class-timer { font-size: 24px; font-weight: 700; color: #4a148c; }
.geo-class-big { font-size: 18px; }
.geo-class-url { font-size: 20px; font-family: monospace; }
.geo-class-qr svg { width: 180px; height: 180px; }
.geo-class-teams td, .geo-class-teams th { font-size: 16px; }
.geo-class-card { border: 1px solid #ccc; border-radius: 6px; padding: 8px 12px; }
.geo-class-key { font-family: monospace; font-size: 16px; background: #fff8e1; padding: 2px 6px; }
.geo-class-wrap { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.geo-class-wrap > * { flex: 1 1 340px; min-width: 0; }
.geo-class-moves .v-btn { max-width: 100%; }
.geo-class-moves .v-btn__content { white-space: normal; flex: 1 1 auto; text-align: left; }
.geo-class-reveal { overflow-x: auto; }
""" + """
@media (max-width: 600px) { .geo-class-code { font-size: 32px; } .geo-class-quarter { font-size: 24px; } }
"""


# ----------------------------------------------------------------------------------- helpers
def _session_id() -> str | None:
    try:
        return solara.get_session_id()
    except Exception:  # noqa: BLE001 - outside a Solara server (component tests)
        return None


def lan_address() -> str:
    """This machine's address on the local network (no packet is sent), else 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def base_url() -> str:
    """The address students type: ``GEOGAME_CLASS_URL`` if set, else the address the server
    listens on (for ``--host 0.0.0.0``, this machine's address on the local network)."""
    url = os.environ.get(CLASS_URL_ENV, "").strip()
    if url:
        return url.rstrip("/") + "/"
    host = os.environ.get("SERVER_NAME", "127.0.0.1")
    port = os.environ.get("SERVER_PORT", "8765")
    if host in ("0.0.0.0", "::", ""):
        host = lan_address()
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"http://{host}:{port}/"


def join_url(code: str) -> str:
    """The join address of game ``code`` (the lobby with the code filled in)."""
    return f"{base_url()}class?code={urllib.parse.quote(code)}"


def qr_svg(text: str) -> str | None:
    """A QR code of ``text`` as inline SVG (``segno``), or None if segno is not installed."""
    try:
        import segno
    except ImportError:
        return None
    return segno.make(text, error="m").svg_inline(scale=5, title="QR code of the join address")


def _check_lockout(session_id) -> None:
    with _lock:
        count, at = _failures.get(session_id, (0, 0.0))
    if count >= MAX_FAILED_CODES and time.time() - at < LOCKOUT_SECONDS:
        raise ClassError("too many wrong codes: wait a minute and try again")


def _failed(session_id) -> None:
    with _lock:
        count, at = _failures.get(session_id, (0, 0.0))
        if time.time() - at >= LOCKOUT_SECONDS:
            count = 0
        _failures[session_id] = (count + 1, time.time())


def _succeeded(session_id) -> None:
    with _lock:
        _failures.pop(session_id, None)


def restore(session_id) -> dict | None:
    """The game and seat (or console) this browser session held before a reload or a restart."""
    if not session_id:
        return None
    reg = registry()
    teacher = _teacher_sessions.get(session_id)
    if teacher is not None:
        return {"game": teacher[0], "role": "teacher", "key": teacher[1]}
    saved = reg.store.session(session_id)
    if saved is None:
        return None
    code, role, seat = saved
    try:
        reg.get(code).seat(seat)
    except ClassError:
        reg.store.forget_session(session_id)
        return None
    return {"game": code, "role": "student", "seat": seat}


def use_game_version(game: ClassGame | None, country: str | None = None, first: bool = False) -> int:
    """Re-render the calling component whenever ``game`` changes (from any thread or page).

    Registers a listener on the shared game that sets this component's state inside this page's
    kernel context (Solara then re-renders this page only); removed when the component goes.
    ``country``: a seat's page, not told of other teams' moves in the open round. ``first``: a
    small part of the page told before every page's larger rest (see ``ClassGame.add_listener``).
    """
    version, set_version = solara.use_state(game.version if game is not None else -1)

    def register():
        if game is None:
            return None
        from solara.server import kernel_context
        try:
            context = kernel_context.get_current_context()
        except Exception:  # noqa: BLE001 - outside a server (component tests): render only
            context = None
        token = object()

        def changed():
            if context is None:
                set_version(game.version)
                return
            with context:
                set_version(game.version)

        game.add_listener(token, changed, country, first)
        set_version(game.version)  # anything that changed between render and now
        return lambda: game.remove_listener(token)

    solara.use_effect(register, [game, country, first])
    return version


def headline_html(metrics: pd.DataFrame) -> str:
    """The headline numbers of the latest quarter with their change since the one before, as one
    HTML string (built once per round for every page of a game)."""
    last = metrics.iloc[-1]
    prev = metrics.iloc[-2] if len(metrics) > 1 else None
    cards = []
    for key, label, kind in HEADLINES:
        value = float(last[key])
        change = "start" if prev is None else fmt_change(kind, value - float(prev[key]))
        cards.append(f"<div class='geo-headline'><div>{html.escape(label)}</div><div class='v'>"
                     f"{html.escape(fmt(kind, value))}</div><div class='c'>change since last quarter: "
                     f"{html.escape(change)}</div></div>")
    return ("<div class='geo-view geo-view-headlines' style='display:flex;flex-wrap:wrap;gap:8px'>"
            + "".join(cards) + "</div>")


def figure_html(svg_text: str, caption: str, name: str) -> str:
    """A chart and its caption as HTML (the same classes as :func:`geogame.viz.widgets.Figure`)."""
    return (f"<div class='geo-view geo-view-{name}'><div class='geo-chart geo-chart-{name}'>{svg_text}</div>"
            f"<div class='geo-asof geo-asof-{name}'>{html.escape(caption)}</div></div>")


def world_html(game: ClassGame, shared: dict, big: bool = False) -> str:
    """The shared world of a seat view (headline numbers, time series, alignment map) as one HTML
    string, built once per round for every page: a new move or message leaves it unchanged, so
    re-rendering a page sends nothing for it."""
    q, metrics = shared["quarter"], shared["metrics"]

    def make() -> str:
        series = svg.timeseries_svg([("class", metrics)], w=900 if big else 700, h=430)
        alignment = svg.alignment_svg(shared["affinity"], q)
        return (headline_html(metrics) + "<div class='geo-class-wrap'>"
                + figure_html(series, f"Time series as of {q}", "class-series")
                + figure_html(alignment, f"Alignment map as of {q}", "class-alignment") + "</div>")
    return game.memo(("world", len(shared["rounds"]), big), make, keep=True)


def round_table(shared: dict, round_no: int | None = None) -> pd.DataFrame:
    """The moves of a resolved round (the last by default), all revealed at once: country, move
    in plain words, who chose it, and the model's reason."""
    if not shared["rounds"]:
        return pd.DataFrame(columns=["country", "move", "chosen by", "why"])
    rnd = shared["rounds"][-1] if round_no is None else shared["rounds"][round_no - 1]
    dec = shared["decisions"]
    dec = dec[dec["quarter"] == rnd["quarter"]].set_index("country")
    rows = []
    for c in COUNTRIES:
        play = rnd["plays"].get(c, {})
        move = play.get("move", "")
        rows.append({"country": COUNTRY_NAMES[c], "move": shared["labels"].get(c, {}).get(move, move),
                     "chosen by": play.get("by", ""),
                     "why": str(dec.loc[c, "reason"]) if c in dec.index else ""})
    return pd.DataFrame(rows)


def countdown_text(game: ClassGame) -> str:
    """Time left in the open round in words ("" when there is nothing to say)."""
    left = game.seconds_left()
    if game.finished:
        return "Game over"
    if left is None:
        return "No time limit" if game.status == "open" else ""
    return f"Time left: {int(left) // 60}:{int(left) % 60:02d}" + (" (paused)" if game.status != "open" else "")


@solara.component
def Countdown(game: ClassGame):
    """Time left in the open round: a thread reads the game's clock every second and re-renders
    only when the text changes (so it follows the teacher's start, pause and timer without the
    page re-rendering it at every change)."""
    text, set_text = solara.use_state(countdown_text(game))

    def run(cancel: threading.Event):
        while not cancel.wait(1.0):
            set_text(countdown_text(game))   # Solara re-renders only if it changed

    solara.use_thread(run, dependencies=[game])
    solara.Text(text, classes=["geo-class-timer"])


def status_text(shared: dict) -> str:
    """The round's state in words."""
    if shared["finished"]:
        return "The game is over: see the debrief below."
    return {"lobby": "Waiting for the teacher to start the first round.",
            "open": f"Round {shared['round']} is open: choose your moves for {shared['next_quarter']}.",
            "paused": f"Round {shared['round']} is paused."}.get(shared["status"], shared["status"])


def deal_terms(shared: dict) -> str:
    """The US-India deal's terms in words (the settings ``usa.deal_tariff_on_ind`` and
    ``usa.deal_crude_ceiling``)."""
    ins = shared["instruments"]
    return (f"a total US tariff of {100 * ins['usa.deal_tariff_on_ind']:.0f}% on Indian goods if India keeps Russian "
            f"crude under {100 * ins['usa.deal_crude_ceiling']:.0f}% of its crude imports")


def deal_notice(shared: dict, country: str | None) -> tuple[str, str]:
    """(kind, text) of the US offer to India while it is on the table (the US offers it with its
    move "offers India a lower tariff ..."; India accepts with "accepts the US offer"; the game
    enforces the terms from the next quarter), or of a concluded deal; ("", "") otherwise."""
    ins = shared["instruments"]
    deal = deals.DEALS[deals.US_DEAL]
    if country not in (None, deal.proposer, deal.receiver):
        return "", ""
    terms = deal_terms(shared)
    accepted = deals.us_deal_accepted(shared["rounds"])
    if accepted:
        return "info", f"Deal in force between the US and India: {terms}."
    if ins["usa.deal_offer"] > 0:
        if country == deal.receiver:
            return "warning", (f"The United States offers India {terms}. Accept it with your move "
                               f"\"accepts the US offer\" this round, or leave it on the table.")
        if country == deal.proposer:
            return "warning", f"Your offer is on the table: {terms}. India can accept it this round."
        return "warning", f"The United States offers India {terms}."
    return "", ""


@solara.component
def DealNotice(kind: str, text: str):
    """The US-India deal's state (see :func:`deal_notice`)."""
    if kind == "info":
        solara.Info(text, classes=["geo-class-deal"])
    elif kind == "warning":
        solara.Warning(text, classes=["geo-class-deal"])


def DealPanel(shared: dict, country: str | None):
    """The US-India deal's state for ``country`` (None: the projector)."""
    return DealNotice(*deal_notice(shared, country))


STATUS_WORDS = {"open": "waiting for an answer", "accepted": "accepted: enforced when the round resolves",
                "rejected": "rejected", "withdrawn": "withdrawn", "expired": "not answered in time",
                "enforced": "accepted and enforced"}


def round_offers(shared: dict, country: str | None = None) -> list[dict]:
    """The offers of the open round (to or from ``country``; all with None)."""
    return [o for o in shared["offers"] if o["round"] == shared["round"]
            and (country is None or country in (o["from"], o["to"]))]


def offers_table(shared: dict) -> pd.DataFrame:
    """The open round's offers for the projector: who offered what, and the answer (escaped when shown)."""
    return pd.DataFrame([{"from": f"{o['by']} ({COUNTRY_NAMES[o['from']]})", "offer": o["what"],
                          "note": o["note"], "answer": STATUS_WORDS[o["status"]]} for o in round_offers(shared)],
                        columns=["from", "offer", "note", "answer"])


def reported(error, fn):
    """``fn`` wrapped for a button: what the game refuses shows as one line in ``error`` (cleared
    when it works), anything else as one short line too; never a traceback."""
    def run(*args):
        try:
            fn(*args)
            error.set("")
        except InputError as exc:
            error.set(one_line(exc))
        except Exception as exc:  # noqa: BLE001 - one red line, never a traceback
            error.set(f"That did not work ({type(exc).__name__}).")
    return run


@solara.component
def OffersPanel(game: ClassGame, seat_code: str, country: str, mine: list, open_round: bool, fixed: str):
    """A team's deals in the open round: make an offer (terms within their ranges), answer the
    offers made to it (``mine``: the round's offers to and from it), withdraw its own; every
    action goes through the game, which checks the seat. ``fixed``: the move a deal fixes for
    the team this round, in words ("" if none)."""
    error = solara.use_reactive("")
    if not open_round:
        return

    def act(fn):
        return reported(error, fn)

    with solara.Card("Deals with other teams", classes=["geo-class-offers"]):
        Notice("info", f"Your move this round is fixed by a deal: {COUNTRY_NAMES[country]} {fixed}." if fixed else "",
               ("geo-class-fixed",))
        OfferList(game, seat_code, country, mine, act)
        OfferForm(game, seat_code, country, act)
        Notice("error", error.value, ("geo-class-error", "geo-class-offer-error"))


@solara.component
def OfferList(game: ClassGame, seat_code: str, country: str, mine: list, act):
    """The round's offers to and from the team, with Accept / Reject / Withdraw."""
    with solara.Column(gap="4px"):
        if not mine:
            solara.Text("No offers to or from you this round yet.")
        for o in mine:
            with solara.Row(gap="8px", style={"flex-wrap": "wrap", "align-items": "center"},
                            classes=["geo-class-offer", f"geo-class-offer-{o['status']}"]):
                solara.Text(f"Round {o['round']}, from {o['by']}: {o['what']}"
                            + (f' (note: "{o["note"]}")' if o["note"] else "") + f" - {STATUS_WORDS[o['status']]}",
                            style={"flex": "1 1 300px"})
                if o["to"] == country and o["status"] == "open":
                    solara.Button("Accept", on_click=act(lambda i=o["id"]: game.answer(seat_code, i, True)),
                                  color="primary", classes=["geo-class-accept"])
                    solara.Button("Reject", on_click=act(lambda i=o["id"]: game.answer(seat_code, i, False)),
                                  classes=["geo-class-reject"])
                if o["from"] == country and o["status"] == "open":
                    solara.Button("Withdraw", on_click=act(lambda i=o["id"]: game.withdraw(seat_code, i)),
                                  classes=["geo-class-withdraw"])


@solara.component
def OfferForm(game: ClassGame, seat_code: str, country: str, act):
    """Make an offer: the kind of deal, its terms (each within its range) and a short note."""
    kinds = deals.deals_from(country)
    kind = solara.use_reactive(kinds[0].title if kinds else "")
    chosen_terms = solara.use_reactive({})
    note = solara.use_reactive("")
    if kinds:
        with solara.Column(gap="4px"):
            by_title = {d.title: d for d in kinds}
            deal = by_title.get(kind.value, kinds[0])
            solara.Select("Offer", values=list(by_title), value=kind, classes=["geo-class-offer-kind"])
            terms = {}
            for term in deal.terms:
                options = [term.low + i * term.step for i in range(int(round((term.high - term.low) / term.step)) + 1)]
                shown = {term.show(v): v for v in options}
                current = chosen_terms.value.get((deal.kind, term.key), term.default)
                terms[term.key] = current

                def pick(text, term=term, shown=shown, deal=deal):
                    chosen_terms.set({**chosen_terms.value, (deal.kind, term.key): shown[text]})
                solara.Select(term.label, values=list(shown), value=term.show(current), on_value=pick,
                              classes=[f"geo-class-term-{term.key}"])
            solara.InputText("A short note with the offer (optional)", value=note, classes=["geo-class-offer-note"])

            def send():
                game.offer(seat_code, deal.kind, terms, note.value)
                note.set("")
            solara.Button(f"Send the offer to {COUNTRY_NAMES[deal.receiver]}", on_click=act(send), color="primary",
                          outlined=True, classes=["geo-class-send-offer"])


def debrief_tables(game: ClassGame, shared: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(end comparison, move by move, offers and messages) of the class's path against the AI's."""
    ai = game.ai_path()
    mine, theirs = shared["metrics"].iloc[-1], ai.metrics_frame().iloc[-1]
    end = pd.DataFrame([{"measure": label, "class": fmt(kind, float(mine[k])), "AI path": fmt(kind, float(theirs[k])),
                         "difference": fmt_change(kind, float(mine[k]) - float(theirs[k]))}
                        for k, label, kind in HEADLINES])
    ai_dec = ai.decisions_frame()
    ai_moves = {(r.quarter, r.country): r.move for r in ai_dec.itertuples()}
    labels = shared["labels"]
    rows, offers = [], []
    for rnd in shared["rounds"]:
        for c in COUNTRIES:
            play = rnd["plays"][c]
            ai_move = ai_moves.get((rnd["quarter"], c), "")
            rows.append({"quarter": rnd["quarter"], "country": COUNTRY_NAMES[c],
                         "class": labels[c].get(play["move"], play["move"]), "by": play.get("by", ""),
                         "AI path": labels[c].get(ai_move, ai_move),
                         "same": "yes" if ai_move == play["move"] else ""})
            if play["move"] in ("offer_deal", "withdraw_offer", "accept_us_deal", "fta_with_india"):
                offers.append({"round": rnd["round"], "from": f"{play.get('by', '')} ({COUNTRY_NAMES[c]})",
                              "what": labels[c].get(play["move"], play["move"])})
    for o in shared["offers"]:
        answer = {"enforced": f"accepted by {o['answered_by']}, enforced",
                  "accepted": f"accepted by {o['answered_by']}", "rejected": f"rejected by {o['answered_by']}",
                  "withdrawn": "withdrawn", "expired": "not answered", "open": "open"}[o["status"]]
        what = f"offer: {o['what']} ({answer})" + (f"; note: {o['note']}" if o["note"] else "")
        offers.append({"round": o["round"], "from": f"{o['by']} ({COUNTRY_NAMES[o['from']]})", "what": what})
    for m in shared["messages"]:
        offers.append({"round": m["round"], "from": f"{m['name']} ({COUNTRY_NAMES.get(m['country'], '?')})",
                       "what": f"message: {m['text']}"})
    log = pd.DataFrame(offers, columns=["round", "from", "what"]).sort_values("round", kind="stable")
    return end, pd.DataFrame(rows), log


@solara.component
def ClassDebrief(game: ClassGame, shared: dict):
    """The class's path beside the AI's from the same start and seed, move by move, with the
    offers and messages."""
    if not shared["rounds"]:
        return
    md("Debrief: the class's path beside the AI's", tag="h3")
    md("The AI path starts from the same scenario and seed, every country played by the model. Each "
       "country draws its random choices from its own stream, so where the AI plays a country on both "
       "paths it has the same luck.")
    end, moves, log = game.memo((shared["version"], "debrief"), lambda: debrief_tables(game, shared))
    ai_metrics = game.ai_path().metrics_frame()
    solara.HTML(tag="div", classes=["geo-class-debrief-end"], unsafe_innerHTML=html_table(end))
    Figure(lambda: game.memo((shared["version"], "debrief-series"),
                             lambda: svg.timeseries_svg([("class", shared["metrics"]), ("AI", ai_metrics)],
                                                        title="class solid, AI dashed")),
           (shared["code"], shared["version"]), "The class (solid) and the AI path (dashed)", "class-debrief")
    Scores(game, shared)
    md("Move by move", tag="h4")
    solara.HTML(tag="div", classes=["geo-class-debrief-moves", "geo-log"], unsafe_innerHTML=html_table(moves))
    md("Offers, deals and messages", tag="h4")
    if log.empty:
        solara.Text("None.")
    else:
        solara.HTML(tag="div", classes=["geo-class-debrief-log"], unsafe_innerHTML=html_table(log))


def scores_html(game: ClassGame) -> str:
    """Each team's score against the AI in its seat, as HTML (names and numbers escaped)."""
    parts = []
    gains = game.utility_scores()
    for country, (better, worse, table) in game.scores().items():
        same = len(table) - better - worse
        gain, terms = gains[country]
        parts.append(f"<h5 class='geo-class-score-head'>{html.escape(COUNTRY_NAMES[country])}: better than the AI on "
                     f"{better}, worse on {worse}, the same on {same} of {len(table)} objectives</h5>"
                     + html_table(table, cls="geo-table geo-class-score-table")
                     + "<p class='geo-class-score-usd'>"
                     + html.escape(deals.utility_gain_in_words(country, gain, terms, len(game.rounds))) + "</p>"
                     + html_table(deals.utility_gain_shown(terms), cls="geo-table geo-class-score-terms"))
    return "".join(parts)


@solara.component
def Scores(game: ClassGame, shared: dict):
    """The debrief's scores: each team against the AI in its seat from the same start and draws."""
    if not game.teams_played():
        return
    md("Scores: each team against the AI in its seat", tag="h4")
    md("For each team, the same game is played again with the AI in that team's seat: same start, same "
       "random draws, the other teams' moves as they made them, the deals it was not party to kept. "
       "Each objective is averaged over the quarters played. Below each table, what the team's moves were worth "
       "in the model's own units: the country's utility (USD bn-equivalent) summed over the quarters played, "
       "undiscounted, against the AI's, with the utility term that made the difference.")
    solara.HTML(tag="div", classes=["geo-class-scores"],
                unsafe_innerHTML=game.memo((len(shared["rounds"]), "scores"), lambda: scores_html(game)))


def teams_table(shared: dict) -> pd.DataFrame:
    """Who plays each country and whether the team has moved this round (not what)."""
    rows = []
    for c in COUNTRIES:
        team = shared["teams"][c]
        rows.append({"country": COUNTRY_NAMES[c],
                     "played by": ", ".join(team) if team else ("AI (nobody joined yet)" if c in shared["countries"]
                                                                else "AI"),
                     "this round": ("moved" if c in shared["submitted"] else "thinking...") if team and
                     shared["status"] == "open" and not shared["finished"] else ""})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------ screens
@solara.component
def Projector(game: ClassGame, version: int, debrief: bool = False):
    """The view for the projector: join address and code (and QR), the round and its clock,
    the teams, the shared world and the last round's moves."""
    shared = game.shared_view()
    url = join_url(game.code)
    with solara.Row(gap="24px", style={"flex-wrap": "wrap", "align-items": "center"}):
        with solara.Column(gap="2px"):
            solara.Text("Join at", classes=["geo-class-big"])
            solara.Text(url, classes=["geo-class-url"])
            with solara.Row(gap="8px", style={"align-items": "baseline"}):
                solara.Text("with the code", classes=["geo-class-big"])
                solara.Text(game.code, classes=["geo-class-code"])
        qr = solara.use_memo(lambda: qr_svg(url), dependencies=[url])
        if qr:
            solara.HTML(tag="div", unsafe_innerHTML=qr, classes=["geo-class-qr"])
        with solara.Column(gap="2px"):
            solara.Text(shared["quarter"], classes=["geo-class-quarter"])
            solara.Text(f"round {shared['round'] if not shared['finished'] else len(shared['rounds'])} of "
                        f"{shared['quarters']} · {shared['scenario_title']}", classes=["geo-class-big"])
            Countdown(game)
    solara.Text(status_text(shared), classes=["geo-class-status", "geo-class-big"])
    q, rounds = shared["quarter"], len(shared["rounds"])
    metrics, affinity = shared["metrics"], shared["affinity"]
    # Sized for a projector at 1280x720: the charts' viewBoxes are narrower than the space they
    # fill, so their text is drawn at 16 px or more (checked in the browser test).
    with solara.Div(classes=["geo-class-wrap", "geo-class-projector-top"]):
        with solara.Column(gap="4px", style={"flex": "1 1 480px"}):
            solara.HTML(tag="div", classes=["geo-class-teams"], unsafe_innerHTML=html_table(teams_table(shared)))
            DealPanel(shared, None)
            if round_offers(shared):
                solara.HTML(tag="div", classes=["geo-class-offers-projector"],
                            unsafe_innerHTML=html_table(offers_table(shared)))
            solara.HTML(tag="div", unsafe_innerHTML=game.memo(("headlines", rounds), lambda: headline_html(metrics),
                                                              keep=True))
        with solara.Column(gap="0px", style={"flex": "0 1 720px", "min-width": "300px"}):
            solara.HTML(tag="div", unsafe_innerHTML=game.memo(("projector-alignment", rounds), lambda: figure_html(
                svg.alignment_svg(affinity, q, w=400, h=330), f"Alignment map as of {q}", "class-alignment"), keep=True))
    solara.HTML(tag="div", unsafe_innerHTML=game.memo(("projector-series", rounds), lambda: figure_html(
        svg.timeseries_svg([("class", metrics)], w=600, h=300), f"Time series as of {q}", "class-series"), keep=True))
    if debrief or shared["finished"]:
        ClassDebrief(game, shared)
    title, table = last_round_parts(game, shared)
    HtmlBlock(table, ("geo-class-reveal",), title)
    HtmlBlock(messages_html(game, shared), ("geo-class-messages", "geo-log"), "Messages")


@solara.component
def Console(game: ClassGame, key: str, version: int):
    """The teacher's console: start, pause and resolve rounds, the timer, the policy for late
    teams, locking, the export; every action checks the teacher's key."""
    error = solara.use_reactive("")
    seconds = solara.use_reactive("60")
    shared = game.shared_view()

    def act(fn):
        return reported(error, fn)

    def set_timer():
        try:
            value = float(seconds.value)
        except ValueError:
            raise ClassError("type the round's time in seconds, for example 60") from None
        game.set_deadline(key, value)

    with solara.Card("Teacher's console", classes=["geo-class-console"]):
        solara.Text(f"Game {game.code} · {shared['scenario_name']} · seed {game.seed} · "
                    f"{shared['seats']} students", classes=["geo-class-big"])
        with solara.Row(gap="8px", style={"flex-wrap": "wrap", "align-items": "center"}):
            label = "Start round" if shared["status"] == "lobby" else "Resume"
            solara.Button(label, on_click=act(lambda: game.start(key)), color="primary", classes=["geo-class-start"],
                          disabled=shared["status"] == "open" or shared["finished"])
            solara.Button("Pause", on_click=act(lambda: game.pause(key)), classes=["geo-class-pause"],
                          disabled=shared["status"] != "open")
            solara.Button("Resolve the round now (reveal all moves)", on_click=act(lambda: game.advance(key)),
                          color="primary", outlined=True, classes=["geo-class-advance"], disabled=shared["finished"])
        with solara.Row(gap="8px", style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.InputText("Seconds per round", value=seconds, classes=["geo-class-seconds"],
                             style={"max-width": "160px"})
            solara.Button("Set the timer", on_click=act(set_timer), classes=["geo-class-set-timer"])
            solara.Button("No timer", on_click=act(lambda: game.set_deadline(key, None)), classes=["geo-class-no-timer"])
            solara.Select("A team that has not moved in time plays", values=list(POLICIES.values()),
                          value=POLICIES[shared["policy"]],
                          on_value=act(lambda v: game.set_policy(key, {t: p for p, t in POLICIES.items()}[v])),
                          style={"max-width": "320px"})
            solara.Switch(label="Lock the countries (students who join now are assigned one)", value=shared["locked"],
                          on_value=act(lambda v: game.set_locked(key, v)), classes=["geo-class-lock"])
        submitted = ", ".join(COUNTRY_NAMES[c] for c in shared["submitted"]) or "none yet"
        solara.Text(f"Moved this round: {submitted}", classes=["geo-class-moved"])
        solara.HTML(tag="div", classes=["geo-class-brief-links"], unsafe_innerHTML=(
            "Role briefs to print: " + ", ".join(
                f"<a href='{html.escape(brief_url(c))}' target='_blank' rel='noopener'>{html.escape(COUNTRY_NAMES[c])}</a>"
                for c in COUNTRIES) + f" · <a href='{TEACHING_PATH}' target='_blank' rel='noopener'>teaching material</a>"))
        solara.FileDownload(lambda: game.export_json().encode(), filename=f"geogame_class_{game.code}.json",
                            label="Export the game (JSON: replays it exactly with geogame class replay)")
        solara.HTML(tag="div", unsafe_innerHTML=(
            "Your teacher key (keep it: with the game code it reopens this console on another device or after a "
            f"restart): <span class='geo-class-key'>{html.escape(key)}</span>"))
        if error.value or game.error:
            solara.Error(error.value or game.error, classes=["geo-class-error"])


@solara.component
def TeacherScreen(game: ClassGame, key: str, leave):
    """The console and, below it, the projector view."""
    version = use_game_version(game)
    show_console = solara.use_reactive(True)
    debrief = solara.use_reactive(False)
    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Switch(label="Show the console (turn off for the projector)", value=show_console)
        solara.Switch(label="Show the debrief", value=debrief, classes=["geo-class-show-debrief"])
        solara.Button("Leave the console", on_click=leave, text=True, classes=["geo-class-leave"])
    if show_console.value:
        Console(game, key, version)
    Projector(game, version, debrief.value)


@solara.component
def HtmlBlock(content: str, classes: tuple = (), title: str = ""):
    """Precomputed HTML (built once per game and round or change, escaped where it was built),
    with an optional heading. Its arguments are plain strings: when they have not changed, the
    page skips it when it re-renders (and sends nothing for it)."""
    if not content:
        return
    with solara.Column(gap="0px"):
        solara.HTML(tag="h4", unsafe_innerHTML=html.escape(title), style={} if title else {"display": "none"})
        solara.HTML(tag="div", classes=list(classes), unsafe_innerHTML=content)


@solara.component
def Notice(kind: str, text: str, classes: tuple = ()):
    """A coloured line (``info``, ``success``, ``warning`` or ``error``), or nothing without text.

    A component in a fixed place, so that a notice coming or going does not shift the elements
    after it (reacton matches a parent's children by position: a shift re-creates every widget
    after it, which for a menu of moves meant some 25 new widgets and 130 messages a page a round)."""
    if not text:
        return
    {"info": solara.Info, "success": solara.Success, "warning": solara.Warning,
     "error": solara.Error}[kind](text, classes=list(classes))


@solara.component
def SeatStatic(country: str):
    """What a seat view shows that never changes: the country's objectives and the brief's link."""
    name = COUNTRY_NAMES[country]
    md(f"**What {name} wants:** " + "; ".join(deals.objectives_in_words(country)) + ".",
       classes=["geo-class-objectives"])
    solara.HTML(tag="div", classes=["geo-class-brief-link"], unsafe_innerHTML=(
        f"<a href='{html.escape(brief_url(country))}' target='_blank' rel='noopener'>"
        f"{html.escape(name)}'s role brief (to print)</a> · <a href='{TEACHING_PATH}' target='_blank' "
        "rel='noopener'>Teaching material</a>"))


@solara.component
def MoveCard(game: ClassGame, seat_code: str, country: str, next_quarter: str, menu: tuple, chosen: str | None,
             chosen_by: str | None):
    """The team's menu for the open round (one button a move) and the advisor, opened on demand."""
    error = solara.use_reactive("")
    advisor = solara.use_reactive(False)
    name = COUNTRY_NAMES[country]

    choose = reported(error, lambda move: game.submit(seat_code, move))

    with solara.Card(f"Your move as {name} for {next_quarter}", classes=["geo-class-moves"]):
        Notice("error", error.value, ("geo-class-error",))
        Notice("success", f"Your team's move: {name} {dict(menu).get(chosen, chosen)} (chosen by {chosen_by}). "
               "You can change it until the round resolves." if chosen else "", ("geo-class-chosen",))
        with solara.Column(gap="4px"):
            for move, label in menu:
                solara.Button(f"{name} {label}", on_click=lambda m=move: choose(m),
                              color="primary", outlined=move != chosen,
                              classes=[f"geo-class-move-{move}"],
                              style={"text-transform": "none", "justify-content": "flex-start",
                                     "white-space": "normal", "height": "auto", "min-height": "36px",
                                     "text-align": "left"})
        solara.Switch(label="Show the advisor (the model's value of each move)", value=advisor)
        advice = game.advice(seat_code) if advisor.value else None
        table = ""
        if advice is not None and not advice.empty:
            adv = advice.copy()
            adv["value"] = adv["value"].round(2)
            adv["probability"] = (100 * adv["probability"]).round(0).astype(int).astype(str) + "%"
            table = html_table(adv[["label", "value", "probability"]].rename(columns={
                "label": "move", "value": "value against holding ($bn)", "probability": "chance the AI picks it"}))
        HtmlBlock(table, ("geo-class-advisor",))


@solara.component
def MessageBox(game: ClassGame, seat_code: str):
    """A short message to the class."""
    message = solara.use_reactive("")
    error = solara.use_reactive("")

    def send_and_clear():
        game.send_message(seat_code, message.value)
        message.set("")

    send = reported(error, send_and_clear)

    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.InputText("A short message to the class", value=message, classes=["geo-class-message"],
                         style={"min-width": "260px"})
        solara.Button("Send", on_click=send, classes=["geo-class-send"])
    Notice("error", error.value, ("geo-class-error",))


def last_round_parts(game: ClassGame, shared: dict) -> tuple[str, str]:
    """(heading, HTML table) of the last resolved round, built once per round for every page."""
    if not shared["rounds"]:
        return "", ""
    rnd = shared["rounds"][-1]
    return (f"Round {rnd['round']} ({rnd['quarter']}): every move, revealed together",
            game.memo(("reveal", len(shared["rounds"])), lambda: html_table(round_table(shared)), keep=True))


def messages_html(game: ClassGame, shared: dict) -> str:
    """The class's messages, newest first, escaped; built once per change for every page."""
    msgs = shared["messages"]
    if not msgs:
        return ""

    def make() -> str:
        frame = pd.DataFrame([{"round": m["round"], "from": f"{m['name']} ({COUNTRY_NAMES.get(m['country'], '?')})",
                               "message": m["text"]} for m in reversed(msgs)])
        return html_table(frame, max_rows=30)
    return game.memo(("messages", len(msgs), shared["seats"]), make)


def seat_header_html(game: ClassGame, seat_code: str) -> str:
    """The top of a seat view as HTML: country, quarter, team, seat code, the round's state."""
    shared, mine = game.shared_view(), game.seat_view(seat_code)
    name = html.escape(COUNTRY_NAMES[mine["seat"].country])
    team = html.escape(", ".join(mine["team"]))
    return ("<div style='display:flex;flex-wrap:wrap;gap:12px;align-items:baseline'>"
            f"<span class='geo-class-country geo-class-quarter'>You play {name}</span>"
            f"<span class='geo-class-big geo-class-seat-quarter'>{html.escape(shared['quarter'])}</span></div>"
            f"<div class='geo-class-seatinfo'>Your team: {team}. Your seat code (to come back on another device): "
            f"{html.escape(seat_code)} · game {html.escape(game.code)}</div>"
            f"<div class='geo-class-status'>{html.escape(status_text(shared))}</div>")


def shared_parts(game: ClassGame) -> dict[str, tuple[str, str]]:
    """The parts of a seat view that every seat of a game shows alike and that change only when a
    round resolves: name -> (HTML, heading), each built once per round for every page."""
    shared = game.shared_view()
    title, table = last_round_parts(game, shared)
    return {"reveal": (table, title), "world": (world_html(game, shared), "")}


@solara.component
def SeatHeader(game: ClassGame, seat_code: str, board: dict):
    """The top of a seat view (country, quarter, team, the round's state, the clock), and the
    parts of the page every seat shows alike (:func:`shared_parts`: the revealed moves, the
    charts), further down the page in :func:`SharedBlock`.

    It listens to the game on its own and is told of a change before the rest of every page
    (``first``); it sets its text and the shared parts in one render pass, which sends only what
    changed (a move leaves the shared parts as they are, and they are skipped). So every screen
    shows a resolved round's quarter, moves and charts first; the menu for the next quarter
    follows with the rest of the page. ``board``: each :func:`SharedBlock` of the page puts its
    setter there."""
    try:
        country = game.seat(seat_code).country
    except ClassError:
        return
    text, set_text = solara.use_state(seat_header_html(game, seat_code))
    render_context = reacton.core.get_render_context()

    def register():
        from solara.server import kernel_context
        try:
            context = kernel_context.get_current_context()
        except Exception:  # noqa: BLE001 - outside a server (component tests)
            context = None
        token = object()

        def push():
            new, parts = seat_header_html(game, seat_code), shared_parts(game)
            with contextlib.ExitStack() as stack:
                if context is not None:
                    stack.enter_context(context)
                with render_context:   # a batch: one render pass for all of them, when it ends
                    set_text(new)      # each re-renders only if its value changed
                    for name, value in parts.items():
                        if name in board:
                            board[name](value)

        game.add_listener(token, push, country, first=True)
        push()  # anything that changed between render and now
        return lambda: game.remove_listener(token)

    solara.use_effect(register, [game, seat_code])
    solara.HTML(tag="div", classes=["geo-class-seat-head"], unsafe_innerHTML=text)
    Countdown(game)


@solara.component
def SharedBlock(game: ClassGame, board: dict, name: str, classes: tuple):
    """One of :func:`shared_parts` on a seat view (``name``: ``reveal`` or ``world``): set by the
    page's :func:`SeatHeader` when a round resolves, in the same render pass as the new quarter;
    the page's own re-render skips it (its arguments do not change)."""
    (content, title), set_part = solara.use_state(shared_parts(game)[name])
    board[name] = set_part
    HtmlBlock(content, classes, title)


@solara.component
def SeatScreen(game: ClassGame, seat_code: str, leave):
    """A student's view: their country's situation and menu, the advisor, the shared world.

    Every part is a component whose arguments are plain values (strings, tuples) built once per
    game and change (``game.memo``), so that when a round resolves each of 30 pages re-renders
    only what changed, and sends only that."""
    try:
        country = game.seat(seat_code).country
    except ClassError:
        country = None
    use_game_version(game, country)
    board = solara.use_memo(dict, dependencies=[])   # SeatHeader sets the SharedBlocks through it
    try:
        shared, mine = game.shared_view(), game.seat_view(seat_code)
    except ClassError:
        solara.Error("This seat is no longer in the game.")
        solara.Button("Back to the lobby", on_click=leave)
        return
    seat = mine["seat"]
    SeatHeader(game, seat_code, board)
    SeatStatic(seat.country)
    DealNotice(*deal_notice(shared, seat.country))
    open_round = shared["status"] == "open" and not shared["finished"]
    fixed = shared["fixed"].get(seat.country)
    OffersPanel(game, seat_code, seat.country, round_offers(shared, seat.country), open_round,
                shared["labels"].get(seat.country, {}).get(fixed[0], fixed[0]) if fixed else "")
    if open_round:
        MoveCard(game, seat_code, seat.country, shared["next_quarter"], tuple(mine["menu"]), mine["chosen"],
                 mine["chosen_by"])
    if shared["finished"]:
        ClassDebrief(game, shared)
    SharedBlock(game, board, "reveal", ("geo-class-reveal",))
    SharedBlock(game, board, "world", ("geo-class-world",))
    MessageBox(game, seat_code)
    HtmlBlock(messages_html(game, shared), ("geo-class-messages", "geo-log"), "Messages")
    solara.Button("Leave this seat", on_click=leave, text=True, classes=["geo-class-leave"])


@solara.component
def Lobby(who, code_from_url: str):
    """Join a game, rejoin a seat, host a new game or reopen the console."""
    reg = registry()
    session_id = _session_id() or ""
    error = solara.use_reactive("")
    code = solara.use_reactive(code_from_url)
    name = solara.use_reactive("")
    country = solara.use_reactive(ANY_COUNTRY)
    seat_code = solara.use_reactive("")
    key = solara.use_reactive("")
    scenario = solara.use_reactive("baseline")
    played = solara.use_reactive([COUNTRY_NAMES[c] for c in COUNTRIES])
    seed = solara.use_reactive("1")
    by_name = {COUNTRY_NAMES[c]: c for c in COUNTRIES}

    def guarded(fn):
        def run():
            try:
                _check_lockout(session_id)
                fn()
                error.set("")
            except ClassError as exc:
                if "code" in str(exc) or "teacher" in str(exc) or "seat" in str(exc):
                    _failed(session_id)
                error.set(one_line(exc))
            except InputError as exc:
                error.set(one_line(exc))
            except Exception as exc:  # noqa: BLE001 - one red line, never a traceback
                error.set(f"That did not work ({type(exc).__name__}).")
        return run

    def join():
        game = reg.get(code.value)
        seat = game.join(name.value, by_name.get(country.value))
        if session_id:
            reg.store.remember_session(session_id, game.code, "student", seat.code)
        _succeeded(session_id)
        who.set({"game": game.code, "role": "student", "seat": seat.code})

    def rejoin():
        game = reg.get(code.value)
        seat = game.seat(seat_code.value)
        if session_id:
            reg.store.remember_session(session_id, game.code, "student", seat.code)
        _succeeded(session_id)
        who.set({"game": game.code, "role": "student", "seat": seat.code})

    def console():
        game = reg.get(code.value)
        if not game.is_teacher(key.value.strip()):
            raise ClassError("that is not this game's teacher key")
        _open_console(session_id, game.code, key.value.strip(), who)

    def host():
        try:
            seed_value = int(seed.value.strip())
        except ValueError:
            raise ClassError("the seed must be a whole number") from None
        if not 0 <= seed_value <= 2**31 - 1:
            raise ClassError("the seed must be from 0 to 2147483647")
        game, new_key = reg.create(scenario.value, seed=seed_value,
                                   countries=[by_name[n] for n in played.value if n in by_name])
        _open_console(session_id, game.code, new_key, who)

    md("Class game", tag="h2")
    md("One game for the whole class: the teacher projects the world, each student (or team) plays a "
       "country from their own device, and the AI plays every country nobody holds.")
    solara.HTML(tag="div", classes=["geo-class-teaching-link"], unsafe_innerHTML=(
        f"For teachers: <a href='{TEACHING_PATH}' target='_blank' rel='noopener'>a 50-minute lesson plan, role "
        "briefs to print, a glossary and discussion questions</a> (the folder docs/teaching of geogame)."))
    if error.value:
        solara.Error(error.value, classes=["geo-class-error"])
    with solara.Div(classes=["geo-class-wrap"]):
        with solara.Card("Join a game (students)", classes=["geo-class-join"]):
            solara.InputText("Game code (on the projector)", value=code, classes=["geo-class-code-input"])
            solara.InputText("Your name (shown to the class)", value=name, classes=["geo-class-name-input"])
            solara.Select("Country", values=[ANY_COUNTRY] + [COUNTRY_NAMES[c] for c in COUNTRIES], value=country,
                          classes=["geo-class-country-input"])
            solara.Button("Join", on_click=guarded(join), color="primary", classes=["geo-class-join-button"])
        with solara.Card("Back to your seat", classes=["geo-class-rejoin"]):
            solara.InputText("Game code", value=code, classes=["geo-class-code-input2"])
            solara.InputText("Your seat code", value=seat_code, classes=["geo-class-seat-input"])
            solara.Button("Rejoin", on_click=guarded(rejoin), classes=["geo-class-rejoin-button"])
        with solara.Card("Host a class game (teachers)", classes=["geo-class-host"]):
            solara.Select("Scenario", values=list(preset_names()), value=scenario, classes=["geo-class-scenario"])
            solara.SelectMultiple("Countries students play", values=played,
                                  all_values=[COUNTRY_NAMES[c] for c in COUNTRIES], classes=["geo-class-played"])
            solara.InputText("Seed", value=seed, classes=["geo-class-seed"])
            solara.Button("Start a class game", on_click=guarded(host), color="primary", classes=["geo-class-host-button"])
        with solara.Card("Reopen the console (teachers)", classes=["geo-class-reopen"]):
            solara.InputText("Game code", value=code, classes=["geo-class-code-input3"])
            solara.InputText("Teacher key", value=key, password=True, classes=["geo-class-key-input"])
            solara.Button("Open the console", on_click=guarded(console), classes=["geo-class-console-button"])


def _open_console(session_id: str, code: str, key: str, who) -> None:
    if session_id:
        _teacher_sessions[session_id] = (code, key)
    _succeeded(session_id)
    who.set({"game": code, "role": "teacher", "key": key})


@solara.component
def ClassPage():
    """The class game: the lobby until this browser holds a seat or the console."""
    router = solara.use_router()
    code_from_url = normalise_code(urllib.parse.parse_qs(router.search or "").get("code", [""])[0])[:12]
    session_id = _session_id()
    initial = solara.use_memo(lambda: restore(session_id), dependencies=[])
    who = solara.use_reactive(initial)
    reg = registry()

    def leave():
        if session_id:
            _teacher_sessions.pop(session_id, None)
            reg.store.forget_session(session_id)
        who.set(None)

    if who.value is None:
        Lobby(who, code_from_url)
        return
    try:
        game = reg.get(who.value["game"])
    except ClassError:
        who.set(None)
        return
    if who.value["role"] == "teacher":
        TeacherScreen(game, who.value["key"], leave)
    else:
        SeatScreen(game, who.value["seat"], leave)
