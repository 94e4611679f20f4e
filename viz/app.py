"""geogame in the browser: watch, steer and play the model in class.

Start with ``./dev app`` (http://127.0.0.1:8765/). Each browser session gets its own
``GameSession`` (memoised inside ``Page``); nothing here is shared between visitors.
"""
from __future__ import annotations

import html
import json
import math
import re
import time

import solara
from ipyvuetify.extra import FileInput

from geogame.model import COUNTRIES, COUNTRY_NAMES, InputError, check_value, load_scenario
from geogame.viz import briefs, charts, class_app, report, security, svg
from geogame.viz.fan import FanView
from geogame.viz.widgets import Figure, PageLanguage, html_table, md
from geogame.viz.session import (LEVERS, MAX_UPLOAD_BYTES, GameSession, check_lever, check_upload_size,
                                 load_uploaded_scenario, one_line, parse_seed, presets, scenario_value,
                                 shown_file_name, slider_range)

# Under `solara run`: refuse requests from other origins, HttpOnly session cookie (viz/security.py).
security.install()

SPEED_RANGE = (0.5, 5.0)  # quarters per second
VIEWS = ["Live", "Debrief", "Compare", "Downloads"]
NOBODY = "nobody (watch)"
PLAY_AS_OPTIONS = [NOBODY] + [COUNTRY_NAMES[c] for c in COUNTRIES]
CODE_OF = {COUNTRY_NAMES[c]: c for c in COUNTRIES}
UPLOADED = "uploaded: "

CSS = """
.geo-lever label.v-label, .geo-speed label.v-label { display: none; }
.geo-quarter { font-size: 28px; font-weight: 700; color: #1a237e; }
.geo-headline { border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px; min-width: 150px; }
.geo-headline .v { font-size: 18px; font-weight: 600; }
.geo-headline .c { font-size: 12px; color: #555; }
.geo-log { max-height: 320px; overflow-y: auto; font-size: 13px; }
.geo-log table, .geo-table { border-collapse: collapse; width: 100%; font-size: 13px; }
.geo-log td, .geo-log th, .geo-table td, .geo-table th { border-bottom: 1px solid #eee; padding: 3px 6px;
  text-align: left; vertical-align: top; }
.geo-asof { font-size: 11px; color: #777; }
.geo-story { white-space: pre-line; font-size: 13px; }
.geo-note { font-size: 12px; color: #8a6d00; }
"""


def model_failure(exc: BaseException) -> str:
    """One line for an exception the model raised while running a quarter (never a traceback)."""
    return (f"The model could not compute the next quarter ({type(exc).__name__}); this run cannot go on. "
            "Press Reset to start a new run, or change the settings.")


def lever_label(key: str, shown_value: float) -> str:
    """A lever's label with its unit and slider range."""
    label, _, unit, _ = LEVERS[key]
    low, high = slider_range(key, shown_value)
    return f"{label} ({unit}, {low:g} to {high:g})"


def lever_defaults(scenario) -> dict[str, float]:
    """Every lever at ``scenario``'s own value, in display units."""
    return {k: round(scenario_value(scenario, k) * LEVERS[k][1], 6) for k in LEVERS}


def keep_moved_levers(values: dict[str, float], old_defaults: dict[str, float],
                      new_defaults: dict[str, float]) -> dict[str, float]:
    """The levers after another scenario is picked: a lever the student moved away from the old
    scenario's value keeps the student's value; the others take the new scenario's value.
    (Before, picking a scenario silently put back every slider.)"""
    return {k: values[k] if k in old_defaults and abs(values[k] - old_defaults[k]) > 1e-9 else new_defaults[k]
            for k in new_defaults}


def overrides_from(values: dict[str, float], scenario) -> dict[str, float]:
    """Only the levers moved away from the scenario's own value become overrides; a value that is
    not a finite number in the model's range raises InputError (it is never silently dropped)."""
    out = {}
    for key, shown in values.items():
        value = check_lever(key, shown) / LEVERS[key][1]
        if abs(value - scenario_value(scenario, key)) > 1e-9:
            out[key] = check_value(key, value)
    return out


def read_upload(file_info) -> tuple[str, bytes]:
    """(name, bytes) of a file from FileDrop or ScenarioFilePicker. The size the browser reported
    is checked before a byte is read, and at most ``MAX_UPLOAD_BYTES + 1`` bytes are read."""
    name = str(file_info.get("name", ""))
    check_upload_size(name, file_info.get("size"))
    data = file_info.get("data")
    if data is None:
        data = file_info["file_obj"].read(MAX_UPLOAD_BYTES + 1)
    return name, bytes(data)


@solara.component
def ScenarioFilePicker(on_file):
    """A "choose file" button (Vuetify's file input) for computers without drag and drop.

    Like ``solara.FileDrop(lazy=True)`` the browser sends nothing when a file is chosen but its
    name and size; the content is read in chunks only when ``on_file`` asks for it (see
    :func:`read_upload`), so a huge file is refused without being sent. (ipywidgets'
    FileUpload sent the whole file in one message; files of 20 MB and more were lost without a
    word.)
    """
    info, set_info = solara.use_state(None)
    files, set_files = solara.use_state(None)
    picker = FileInput.element(accept=".toml", multiple=False, show_progress=False, on_file_info=set_info)

    def wire():
        if not info:
            return
        widget = solara.get_widget(picker)
        widget.version += 1  # as solara's FileDrop: a fresh version for this file's reads
        widget.reset_stats()
        set_files(widget.get_files())

    solara.use_effect(wire, [info])

    def deliver(cancel):
        if files:
            on_file(files[0])

    solara.use_thread(deliver, dependencies=[files])
    return picker


@solara.component
def Headlines(session: GameSession, version: int):
    """The six headline numbers with their change since last quarter."""
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}, classes=["geo-view", "geo-view-headlines"]):
        for h in session.headlines():
            solara.HTML(tag="div", classes=["geo-headline"],
                        unsafe_innerHTML=f"<div>{html.escape(h['label'])}</div><div class='v'>{html.escape(h['value'])}"
                                         f"</div><div class='c'>change since last quarter: {html.escape(h['change'])}</div>")
    solara.Text(f"as of {session.model.quarter_label}", classes=["geo-asof"])


@solara.component
def EventLog(session: GameSession, version: int):
    """Every move and scenario event with its reason, newest first."""
    log = session.event_log()
    with solara.Column(classes=["geo-view", "geo-view-log"], gap="0px"):
        md("Event log: every move and its reason (newest first)", tag="h4")
        if log.empty:
            solara.Text("No moves yet: press Step or Play.")
        else:
            solara.HTML(tag="div", classes=["geo-log"],
                        unsafe_innerHTML=html_table(log[["quarter", "who", "what", "reason"]], max_rows=80))
        solara.Text(f"as of {session.model.quarter_label}", classes=["geo-asof"])


@solara.component
def MovePanel(session: GameSession, version, bump, set_error):
    """The played country's menu of moves for this quarter, and the advisor switch."""
    country = session.play_as
    advisor, set_advisor = solara.use_state(False)
    if not country or country not in session.awaiting or session.finished:
        return
    model = session.model
    name = COUNTRY_NAMES[country]

    def choose(move_name):
        try:
            session.play_move(move_name)
            set_error("")
        except InputError as exc:
            set_error(one_line(exc))
        except Exception as exc:  # noqa: BLE001 - the page shows one line, not a traceback
            set_error(model_failure(exc))
        bump()

    with solara.Card(f"Your move as {name} for {model.quarter_label_next}", classes=["geo-move-panel"]):
        solara.Text("The other countries play by the model's rules. Choose one move:")
        with solara.Column(gap="4px"):
            for move in model.menu(country):
                solara.Button(f"{name} {move.label}", on_click=lambda m=move.name: choose(m),
                              color="primary", outlined=True, classes=[f"geo-move-{move.name}"],
                              style={"text-transform": "none", "justify-content": "flex-start"})
        solara.Switch(label="Show the advisor (the model's value of each move)", value=advisor,
                      on_value=set_advisor)
        if advisor:
            adv = model.advice(country).copy()
            adv["value"] = adv["value"].round(2)
            adv["probability"] = (100 * adv["probability"]).round(0).astype(int).astype(str) + "%"
            solara.HTML(tag="div", classes=["geo-advisor"],
                        unsafe_innerHTML=html_table(adv[["label", "kind", "value", "probability"]]
                                                    .rename(columns={"label": "move", "value": "value ($bn, 2 quarters)",
                                                                     "probability": "chance the model picks it"})))


@solara.component
def LiveView(session: GameSession, version: int, bump, set_error):
    """The live view: move panel, headlines, trade network, alignment map, time series, event log."""
    # Everything read from the model is read at once under the session's lock: the Play thread
    # steps the same model (reading it mid-step gave "Length of values (4) does not match ...").
    with session.lock:
        key = (session.run_id, session.quarters_done)
        model = session.model
        q = model.quarter_label
        frame = model.metrics_frame()
        goods = model.world.goods_flow_usd_bn[0].copy()
        latest = dict(model.latest)
        previous = session.previous_edges()
        aff = model.world.affinity[0].copy()
    colour_by, set_colour_by = solara.use_state("sector")
    MovePanel(session, version, bump, set_error)
    Headlines(session, version)
    with solara.Columns([1, 1]):
        with solara.Column(gap="0px"):
            with solara.Row(gap="8px", style={"align-items": "center"}):
                solara.Text("Colour the arrows by")
                solara.ToggleButtonsSingle(value=colour_by, on_value=set_colour_by, values=["sector", "change"],
                                           classes=["geo-network-colour"])
            how = ("Colour: change since last quarter (green up, red down)." if colour_by == "change"
                   else "Colour: sector.")
            Figure(lambda: svg.network_svg(charts.trade_edges(goods, latest), q, previous, colour_by=colour_by),
                   (*key, colour_by), f"Trade network as of {q}, width by value. {how} "
                   f"Labels: India's flows and their change since last quarter.", "network")
        Figure(lambda: svg.alignment_svg(aff, q), key, f"Alignment map as of {q}", "alignment")
    Figure(lambda: svg.timeseries_svg([("run", frame)]), key, f"Time series as of {q}", "series")
    FanView(model.scenario_def, model.overrides, frame)   # what else could have happened (64 seeds)
    EventLog(session, version)


@solara.component
def DebriefView(session: GameSession, version: int):
    """The player's path beside the AI path from the same start and seed."""
    key = (session.run_id, session.quarters_done)
    who = COUNTRY_NAMES[session.play_as] if session.play_as else None
    md("Debrief", tag="h3")
    if who:
        md(f"Your path, with **{who}** played by you, beside the path the model's AI would have "
                        f"taken from the same start and seed (all other settings equal), over the same "
                        f"{session.quarters_done} quarters.")
    else:
        md("You are watching, not playing: choose *Play as* and press *Reset* to play a country. "
                        "Below, this run beside a fresh all-AI run from the same start and seed.")
    if session.quarters_done == 0:
        solara.Info("Nothing played yet: step at least one quarter.")
        return
    twin = session.ai_twin()
    mine_f, ai_f = session.metrics(), twin.metrics_frame()
    solara.HTML(tag="div", classes=["geo-debrief-end"], unsafe_innerHTML=html_table(session.end_comparison()))
    with solara.Columns([1, 1]):
        with solara.Column():
            md(f"{'Your path' if who else 'This run'}", tag="h4")
            Figure(lambda: svg.timeseries_svg([("you", mine_f)], w=700, h=430), ("dm",) + key,
                   f"Your path to {session.model.quarter_label}", "debrief-mine")
        with solara.Column():
            md("AI path", tag="h4")
            Figure(lambda: svg.timeseries_svg([("AI", ai_f)], w=700, h=430), ("da",) + key,
                   f"AI path to {twin.quarter_label}", "debrief-ai")
    if who:
        md(f"Your moves as {who} and what followed", tag="h4")
        moves = session.student_moves()
        if moves.empty:
            solara.Text("You have not chosen a move yet.")
        else:
            solara.HTML(tag="div", classes=["geo-debrief-moves"], unsafe_innerHTML=html_table(moves))
        ai_moves = twin.decisions_frame()
        ai_moves = ai_moves[ai_moves["country"] == session.play_as][["quarter", "move", "reason"]]
        md(f"What the AI did as {who}", tag="h4")
        solara.HTML(tag="div", unsafe_innerHTML=html_table(ai_moves))


@solara.component
def CompareView(session: GameSession, version: int, bump, set_error):
    """Run A (current) beside run B (kept, or another scenario) on the same charts."""
    other, set_other = solara.use_state("no_oil_penalty")
    md("Compare two runs", tag="h3")
    md("Run **A** is the current run. Run **B** is a run you kept, or another "
                    "scenario run with the same seed and settings for as many quarters as A.")

    def keep():
        session.keep_for_compare()
        bump()

    def run_other():
        try:
            session.run_for_compare(other)
            set_error("")
        except InputError as exc:
            set_error(one_line(exc))
        except Exception as exc:  # noqa: BLE001
            set_error(f"Run B could not be computed ({type(exc).__name__}).")
        bump()

    with solara.Row():
        solara.Button("Keep the current run as B", on_click=keep, outlined=True)
        solara.Select("Scenario for B", values=presets(), value=other, on_value=set_other,
                      style={"max-width": "260px"})
        solara.Button("Run it as B", on_click=run_other, color="primary")
    b = session.compare
    if b is None:
        solara.Info("No run B yet: keep the current run, change settings and press Reset, or run a scenario as B.")
        return
    a_label = f"A: {session.describe()} to {session.model.quarter_label}"
    a_f = session.metrics()
    key = (session.run_id, session.quarters_done, b.label, len(b.metrics))
    md(f"**A** (solid): {a_label}  \n**B** (dashed): {b.label}")
    Figure(lambda: svg.timeseries_svg([("A", a_f), ("B", b.metrics)], title="A solid, B dashed"),
           ("cmp",) + key, "A and B on the same charts", "compare")
    rows = []
    from geogame.viz.session import HEADLINES, fmt
    a_last, b_last = a_f.iloc[-1], b.metrics.iloc[-1]
    for k, label, kind in HEADLINES:
        rows.append({"measure": label, f"A ({a_last['quarter']})": fmt(kind, float(a_last[k])),
                     f"B ({b_last['quarter']})": fmt(kind, float(b_last[k]))})
    import pandas as pd
    solara.HTML(tag="div", classes=["geo-compare-table"], unsafe_innerHTML=html_table(pd.DataFrame(rows)))


@solara.component
def DownloadsView(session: GameSession, version: int):
    """Downloads: the run as CSV, the debrief as HTML, a scenario file that reproduces the run."""
    md("Take it home", tag="h3")
    stem = f"geogame_{session.scenario.name}_seed{session.seed}_{session.model.quarter_label}"
    with solara.Column(gap="8px"):
        solara.FileDownload(lambda: report.run_csv(session).encode(), filename=f"{stem}_run.csv",
                            label="Download the run (quarterly table and decisions, CSV)")
        solara.FileDownload(lambda: report.metrics_csv(session).encode(), filename=f"{stem}_quarterly.csv",
                            label="Quarterly table only (CSV)")
        solara.FileDownload(lambda: report.decisions_csv(session).encode(), filename=f"{stem}_decisions.csv",
                            label="Decisions only (CSV)")
        solara.FileDownload(lambda: report.debrief_html(session).encode(), filename=f"{stem}_debrief.html",
                            label="Download the debrief (HTML page, charts included)")
        solara.FileDownload(lambda: json.dumps(session.replay_record(), indent=1).encode(),
                            filename=f"{stem}_replay.json",
                            label="Download a replay file: this run exactly, with your moves, who played and the seed (JSON)")
        solara.FileDownload(lambda: session.model.scenario_toml().encode(), filename=f"{stem}_scenario.toml",
                            label="Download a scenario file with this run's settings (TOML)")
    md("The replay file reproduces this run move by move: `geogame class replay FILE --out run.csv`. "
       "The scenario file keeps the settings only: load it again with *Upload a scenario* "
       "(same seed: type it in the Seed box) for a new run from the same start.")


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's signature for a layout
    """Every page: the choice between the solo game and the class game, then the page."""
    router = solara.use_router()
    in_class = router.path.rstrip("/").endswith("/class")
    solara.Style(CSS + class_app.CSS)
    PageLanguage("en")
    with solara.Row(gap="8px", style={"padding": "4px 8px 0 8px", "align-items": "center"}, classes=["geo-nav"]):
        solara.Button("Play alone", on_click=lambda: router.push("/"), text=in_class, outlined=not in_class,
                      classes=["geo-nav-solo"])
        solara.Button("Class game", on_click=lambda: router.push("/class"), text=not in_class, outlined=in_class,
                      classes=["geo-nav-class"])
    with solara.Column(children=children, gap="0px"):
        pass


@solara.component
def ClassGamePage():
    """The class game (``/class``): lobby, teacher's console and projector, seat views."""
    solara.Title("geogame: class game")
    with solara.Column(style={"padding": "8px"}):
        class_app.ClassPage()


@solara.component
def SoloPage():
    """The whole page for one browser tab (its own GameSession)."""
    session = solara.use_memo(GameSession, dependencies=[])
    version, set_version = solara.use_state(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(2.0)  # quarters per second
    view = solara.use_reactive("Live")
    error = solara.use_reactive("")
    info = solara.use_reactive("")
    # pending settings (take effect on Reset)
    choice = solara.use_reactive(session.scenario.name)
    uploaded = solara.use_reactive(None)
    levers = solara.use_reactive(lever_defaults(session.scenario))
    seed_text = solara.use_reactive(str(session.seed))
    play_as = solara.use_reactive(NOBODY)

    def bump():
        set_version(lambda v: v + 1)

    def pending_scenario():
        if choice.value.startswith(UPLOADED) and uploaded.value is not None:
            return uploaded.value
        return load_scenario(choice.value)

    def play_loop():
        while playing.value:
            time.sleep(1.0 / max(speed.value, 0.1))
            if not playing.value:
                break
            try:
                stepped = session.step()
            except Exception as exc:  # noqa: BLE001 - one red line, the page stays
                error.set(model_failure(exc))
                stepped = False
            if not stepped:
                playing.set(False)
            bump()

    solara.use_thread(play_loop, dependencies=[playing.value])

    def on_choice(name):
        try:
            before = lever_defaults(pending_scenario())
        except InputError:
            before = {}
        choice.set(name)
        try:
            levers.set(keep_moved_levers(levers.value, before, lever_defaults(pending_scenario())))
        except InputError as exc:
            error.set(str(exc))

    def on_file(info_):
        # Runs in FileDrop's / the picker's thread: any exception here would replace the page
        # with a traceback, so every one becomes one red line and the run goes on.
        try:
            name, data = read_upload(info_)
            scenario = load_uploaded_scenario(name, data, size=info_.get("size"))
            title = one_line(scenario.title, 80)
        except InputError as exc:
            error.set(f"Could not use the uploaded file: {one_line(exc)}. The current run is unchanged.")
            info.set("")
            return
        except Exception as exc:  # noqa: BLE001 - a read timeout, a closed connection, a bug
            error.set(f"Could not read the uploaded file ({type(exc).__name__}). The current run is unchanged.")
            info.set("")
            return
        uploaded.set(scenario)
        choice.set(UPLOADED + scenario.name)
        levers.set(lever_defaults(scenario))
        error.set("")
        info.set(f"Loaded '{title}' from {shown_file_name(name)}. Press Reset to run it.")

    def reset():
        playing.set(False)
        try:
            scenario = pending_scenario()
            seed = parse_seed(seed_text.value)
            overrides = overrides_from(levers.value, scenario)
            who = CODE_OF.get(play_as.value)
            session.new_run(scenario=scenario, seed=seed, overrides=overrides, play_as=who)
        except InputError as exc:
            error.set(f"{one_line(exc)}. The current run is unchanged.")
            return False
        except Exception as exc:  # noqa: BLE001 - settings the model cannot start from
            error.set(f"These settings cannot start a run ({type(exc).__name__}). The current run is unchanged.")
            return False
        error.set("")
        info.set("")
        bump()
        return True

    def apply_pending() -> bool:
        """Play and Step run what the settings column shows: changed settings (another scenario,
        a slider, the seed, Play as) first start a new run with them, as Reset does. (Before,
        Play after choosing a scenario ran the old one.)"""
        return reset() if changed else True

    def step():
        playing.set(False)
        if not apply_pending():
            return
        if session.finished:
            info.set("The scenario is over: open the Debrief, or press Reset for a new run.")
        elif session.awaiting:
            info.set(f"Waiting for your move as {COUNTRY_NAMES[session.awaiting[0]]}: choose it below.")
        else:
            try:
                session.step()
            except Exception as exc:  # noqa: BLE001 - one red line, the page stays
                error.set(model_failure(exc))
            info.set("")
        bump()

    def set_speed(v):
        try:
            value = float(v)
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and SPEED_RANGE[0] <= value <= SPEED_RANGE[1]):
            error.set(f"Speed {one_line(repr(v), 40)} is refused; allowed {SPEED_RANGE[0]:g} to "
                      f"{SPEED_RANGE[1]:g} quarters per second. The speed is unchanged.")
            return
        speed.set(value)

    def toggle_play():
        if playing.value:
            playing.set(False)
            return
        if not apply_pending():
            return
        if session.can_step():
            info.set("")
            playing.set(True)
        else:
            info.set("The scenario is over: open the Debrief." if session.finished
                     else "Waiting for your move: choose it below.")

    model = session.model
    try:
        pending = pending_scenario()
        pending_ok = True
    except InputError:
        pending, pending_ok = session.scenario, False
    seed_error = ""
    try:
        parse_seed(seed_text.value)
    except InputError as exc:
        seed_error = str(exc)
    try:
        levers_changed = overrides_from(levers.value, pending) != session.overrides
    except InputError:
        levers_changed = True
    changed = pending_ok and (
        pending.name != session.scenario.name or seed_text.value.strip() != str(session.seed)
        or CODE_OF.get(play_as.value) != session.play_as or (not seed_error and levers_changed))

    solara.Title("geogame")
    with solara.Columns([1, 3], style={"padding": "8px"}):
        # ------------------------------------------------------------------ settings column
        with solara.Column(gap="6px"):
            md("geogame", tag="h2")
            md("India, Russia, the US and the EU, quarter by quarter.")
            md("1. Scenario", tag="h4")
            values = presets() + ([UPLOADED + uploaded.value.name] if uploaded.value is not None else [])
            solara.Select("Scenario", values=values, value=choice.value, on_value=on_choice)
            md(f"**{pending.title}**")
            solara.Text(re.sub(r"(?<!\n)\n(?!\n)", " ", pending.story), classes=["geo-story"])
            # lazy: the browser sends the file only after its size is checked (read_upload)
            solara.FileDrop(label=f"Upload a scenario (.toml, at most {MAX_UPLOAD_BYTES / 1e6:g} MB): "
                                  "drop the file here", on_file=on_file, lazy=True)
            with solara.Column(classes=["geo-upload"], gap="0px"):
                solara.Text("or choose the file:")
                ScenarioFilePicker(on_file)
            md("2. Settings", tag="h4")
            solara.HTML(tag="div", classes=["geo-note"],
                        unsafe_innerHTML="Changes take effect when you press <b>Reset</b>, <b>Play</b> or "
                                         "<b>Step</b> (a new run).")
            for key in LEVERS:
                increment = LEVERS[key][3]

                def set_lever(v, key=key):
                    try:
                        value = check_lever(key, v)
                    except InputError as exc:  # NaN, inf or out of range (a modified page): refused
                        error.set(f"{exc}. The setting is unchanged.")
                        return
                    levers.set({**levers.value, key: value})

                # The label on its own line: a long label beside the slider squeezed its track to a dot.
                with solara.Column(gap="0px", classes=["geo-lever"]):
                    solara.Text(f"{lever_label(key, levers.value[key])}: {levers.value[key]:g}",
                                classes=["geo-lever-label"])
                    low, high = slider_range(key, levers.value[key])
                    # the slider's own label names it for screen readers (its thumb's aria-label);
                    # CSS hides it on screen, where the line above says the same with the value
                    solara.SliderFloat(lever_label(key, levers.value[key]), value=levers.value[key],
                                       on_value=set_lever, min=low, max=high, step=increment)
            solara.InputText("Seed (whole number, same seed = same run)", value=seed_text, continuous_update=True)
            if seed_error:
                solara.Error(seed_error, classes=["geo-seed-error"])
            solara.Select("Play as", values=PLAY_AS_OPTIONS, value=play_as)
            if changed:
                solara.HTML(tag="div", classes=["geo-note", "geo-pending"],
                            unsafe_innerHTML="You changed settings: press <b>Reset</b> to start a new run with them.")
        # ------------------------------------------------------------------ main column
        with solara.Column(gap="6px"):
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px"):
                solara.Text(model.quarter_label, classes=["geo-quarter"])
                solara.Text(f"quarter {session.quarters_done} of {session.scenario.quarters} · "
                            f"{session.scenario.title}", classes=["geo-progress"])
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px"):
                solara.Button("Pause" if playing.value else "Play", on_click=toggle_play, color="primary",
                              icon_name="mdi-pause" if playing.value else "mdi-play", classes=["geo-play"])
                solara.Button("Step one quarter", on_click=step, icon_name="mdi-step-forward", classes=["geo-step"])
                solara.Button("Reset", on_click=reset, icon_name="mdi-restart", classes=["geo-reset"])
                with solara.Column(style={"min-width": "240px"}, gap="0px", classes=["geo-speed"]):
                    solara.Text(f"Speed: {speed.value:g} quarters per second", classes=["geo-lever-label"])
                    solara.SliderFloat("Speed (quarters per second)", value=speed.value, on_value=set_speed,
                                       min=SPEED_RANGE[0], max=SPEED_RANGE[1], step=0.5)
            solara.Text(f"This run: {session.describe()}", classes=["geo-asof", "geo-run-desc"])
            if changed:
                solara.HTML(tag="div", classes=["geo-note", "geo-pending-run"],
                            unsafe_innerHTML="Settings changed: <b>Play</b>, <b>Step</b> or <b>Reset</b> starts a "
                                             "new run with them.")
            if error.value:
                solara.Error(error.value, classes=["geo-error"])
            if info.value:
                solara.Info(info.value, classes=["geo-info"])
            if session.finished:
                solara.Success("End of the scenario. Open the Debrief to see your path beside the AI's.")
            solara.ToggleButtonsSingle(value=view, values=VIEWS)
            if view.value == "Live":
                LiveView(session, version, bump, error.set)
            elif view.value == "Debrief":
                DebriefView(session, version)
            elif view.value == "Compare":
                CompareView(session, version, bump, error.set)
            else:
                DownloadsView(session, version)


#: The solo game at ``/``, the class game at ``/class`` (students open the join address there).
routes = [solara.Route(path="/", component=SoloPage, label="Play alone", layout=Layout),
          solara.Route(path="class", component=ClassGamePage, label="Class game"),
          solara.Route(path="brief", component=briefs.BriefPage, label="Role brief"),
          solara.Route(path="teaching", component=briefs.TeachingPage, label="Teaching material")]
