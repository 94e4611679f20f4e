"""App pieces without a browser: the per-session game logic, the charts and the page (solara.render)."""
import numpy as np
import pytest

from geogame.model import InputError
from geogame.viz import charts, report, svg
from geogame.viz.session import GameSession, load_uploaded_scenario, parse_seed


def test_step_and_reset():
    s = GameSession()
    assert s.quarters_done == 0
    assert s.step() and s.quarters_done == 1
    s.reset()
    assert s.quarters_done == 0


def test_bad_inputs_leave_run_intact():
    s = GameSession()
    s.step()
    run = s.run_id
    for bad in ({"seed": "abc"}, {"seed": -1}, {"overrides": {"eu.price_cap_usd": 1e6}}, {"play_as": "xx"}):
        with pytest.raises(InputError):
            s.new_run(**bad)
        assert s.run_id == run and s.quarters_done == 1
    with pytest.raises(InputError):
        load_uploaded_scenario("x.toml", b"this is = = not toml")
    with pytest.raises(InputError):
        load_uploaded_scenario("x.csv", b"a,b")
    assert parse_seed(" 42 ") == 42


def test_upload_good_scenario_roundtrip():
    s = GameSession()
    s.new_run(seed=7, overrides={"usa.oil_penalty_tariff_on_ind": 0.0})
    s.step()
    scenario = load_uploaded_scenario("mine.toml", s.model.scenario_toml().encode())
    s2 = GameSession()
    s2.new_run(scenario=scenario, seed=7)
    s2.step()
    a, b = s.model.metrics_frame(), s2.model.metrics_frame()
    assert a.equals(b)


def test_play_as_india_debrief_and_compare():
    s = GameSession()
    s.new_run(play_as="ind")
    assert s.awaiting == ["ind"] and not s.step()
    moves = [m.name for m in s.model.menu("ind")]
    for name in moves[:3]:
        s.play_move(name)
    with pytest.raises(InputError):
        s.play_move("not_a_move")
    assert s.quarters_done == 3
    played = s.student_moves()
    assert list(played["your move"]) == moves[:3]
    twin = s.ai_twin()
    assert len(twin.metrics_frame()) == 4
    assert set(twin.decisions_frame()["rule"]) <= {"ai", "scripted"}
    html = report.debrief_html(s)
    assert "Your path" in html and "AI path" in html and "http" not in html.split("<body>")[1].replace(
        "http://www.w3.org/2000/svg", "")
    s.run_for_compare("no_oil_penalty")
    assert len(s.compare.metrics) == 4
    csv = report.run_csv(s)
    assert s.model.quarter_label in csv and "# decisions" in csv


def test_mds_and_blocs():
    aff = np.array([[1, -0.5, 0.2, 0.6], [-0.5, 1, 0.5, -0.7], [0.2, 0.5, 1, 0.3], [0.6, -0.7, 0.3, 1.0]])
    # Landscape theory weighs ties by size: India's weaker ties to the large US and EU outweigh
    # its stronger tie to smaller Russia.
    assert charts.blocs(aff) == [["usa", "ind", "eu"], ["rus"]]
    assert len(charts.blocs(np.ones((4, 4)))) == 1
    assert charts.alignment_coords(aff).shape == (4, 2)
    assert "Blocs" in svg.alignment_svg(aff, "2026Q1")


def test_trade_edges_include_crude():
    s = GameSession()
    edges = charts.trade_edges(s.model.world.goods_flow_usd_bn[0], s.model.latest)
    crude = [e for e in edges if e["sector"] == "crude"]
    assert len(crude) == 1 and crude[0]["value"] > 0
    assert len([e for e in edges if e["sector"] == "goods"]) == 20


def test_network_coloured_by_change_shows_growth_green_and_decline_red():
    assert svg.change_colour(1.10, 1.0) == "#1a9850" and svg.change_colour(0.90, 1.0) == "#d73027"
    assert svg.change_colour(1.0, 1.0) == svg.change_colour(5.0, None) == "#969696"
    half = svg.change_colour(1.025, 1.0)  # half-way to full green
    assert half not in ("#1a9850", "#969696") and int(half[3:5], 16) > 150
    now = [{"from": "ind", "to": "usa", "sector": "goods", "value": 60.0},
           {"from": "rus", "to": "ind", "sector": "crude", "value": 40.0}]
    before = [{"from": "ind", "to": "usa", "sector": "goods", "value": 80.0},
              {"from": "rus", "to": "ind", "sector": "crude", "value": 30.0}]
    by_change = svg.network_svg(now, "2026Q2", before, colour_by="change")
    assert 'stroke="#d73027" stroke-opacity="0.75" stroke-width' in by_change.split("geo-edge-ind-usa-goods")[0][-200:]
    assert 'stroke="#1a9850"' in by_change.split("geo-edge-rus-ind-crude")[0][-200:]
    assert "up 5% or more" in by_change and "-20.0 since last quarter" in by_change
    by_sector = svg.network_svg(now, "2026Q2", before)
    assert "#d73027" not in by_sector and "other goods" in by_sector
    with pytest.raises(ValueError, match="colour_by"):
        svg.network_svg(now, "2026Q2", before, colour_by="rainbow")


def test_a_lever_beyond_the_classroom_range_stretches_its_slider_instead_of_clamping():
    from geogame.viz.session import slider_range
    assert slider_range("usa.base_tariff_on_ind", 50.0) == (0.0, 100.0)     # classroom range: 0-100%
    assert slider_range("usa.base_tariff_on_ind", 150.0) == (0.0, 150.0)    # a scenario's 150% tariff
    assert slider_range("usa.base_tariff_on_ind", 500.0) == (0.0, 200.0)    # never past the model's limit
    assert slider_range("eu.price_cap_usd", 47.6) == (0.0, 200.0)           # no classroom limit: the model's


# ------------------------------------------------------------------------------ the page
@pytest.fixture()
def page():
    import solara
    from geogame.viz.app import SoloPage
    box, rc = solara.render(SoloPage(), handle_error=False)
    yield rc
    rc.close()


def _quarter(rc):
    import ipyvuetify as v
    return rc.find(v.Html, class_="geo-quarter").widget.children[0]


def _click(rc, cls):
    import ipyvuetify as v
    rc.find(v.Btn, class_=cls).widget.click()


def test_page_step_changes_quarter_and_charts(page):
    import ipywidgets
    start = _quarter(page)

    def chart():
        return page.find(ipywidgets.Widget, attributes={"class": "geo-chart geo-chart-series"}).widget.unsafe_innerHTML

    before = chart()
    _click(page, "geo-step")
    assert _quarter(page) != start
    assert chart() != before and _quarter(page) in chart()
    _click(page, "geo-reset")
    assert _quarter(page) == start


def test_page_bad_seed_shows_error_and_keeps_run(page):
    import ipyvuetify as v
    _click(page, "geo-step")
    q = _quarter(page)
    field = page.find(v.TextField, label="Seed (whole number, same seed = same run)").widget
    field.v_model = "twelve"
    _click(page, "geo-reset")
    errors = page.find(v.Alert, type="error").widgets
    assert any("seed" in str(w.children) for w in errors)
    assert _quarter(page) == q


def test_picking_a_scenario_then_step_runs_the_picked_scenario(page):
    """Issue 12: the story showed us_deal while Play or Step ran baseline until Reset was pressed."""
    import ipyvuetify as v
    import ipywidgets

    def desc():
        return page.find(v.Html, class_="geo-asof geo-run-desc").widget.children[0]

    page.find(v.Select, label="Scenario").widget.v_model = "us_deal"
    assert desc().startswith("This run: baseline")
    assert page.find(ipywidgets.Widget, attributes={"class": "geo-note geo-pending-run"}).widgets  # beside the buttons
    _click(page, "geo-step")
    assert desc().startswith("This run: us_deal")
    assert _quarter(page) == "2026Q1"


def test_page_network_colour_toggle_switches_to_change(page):
    import ipyvuetify as v
    import ipywidgets

    def network():
        return page.find(ipywidgets.Widget, attributes={"class": "geo-chart geo-chart-network"}).widget.unsafe_innerHTML

    _click(page, "geo-step")
    assert "other goods" in network() and "up 5% or more" not in network()
    page.find(v.BtnToggle, class_="geo-network-colour").widget.v_model = 1  # "change"
    assert "up 5% or more" in network() and "since last quarter" in network()


# ------------------------------------------------------------------ refusing what the app cannot serve
# The scenario files that crashed the upload (issue 14), and the plain malformed one.
BAD_SCENARIOS = {
    "list_base.toml": b"base=[]\n",
    "table_base.toml": b"base={a=1}\n",
    "huge_int.toml": b"[settings]\nusa.base_tariff_on_ind = " + b"9" * 400 + b"\n",
    "huge_int_event.toml": (b'[[events]]\nquarter = "2026Q2"\nset = {"usa.base_tariff_on_ind" = '
                            + b"9" * 400 + b"}\n"),
    "nested.toml": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "nested_tables.toml": b"x = " + b"{a=" * 5000 + b"1" + b"}" * 5000 + b"\n",
    "unclosed.toml": b"title = [unclosed",
}


def assert_one_safe_line(message: str):
    """One line, no traceback, none of the server's folders."""
    import sys
    from pathlib import Path
    assert message and "\n" not in message and "Traceback" not in message, message
    for folder in (str(Path(__file__).resolve().parent.parent), sys.prefix, "site-packages"):
        assert folder not in message, message
    assert len(message) <= 400, message


@pytest.mark.parametrize("name", sorted(BAD_SCENARIOS))
def test_bad_scenario_upload_is_one_safe_line(name):
    with pytest.raises(InputError) as info:
        load_uploaded_scenario(name, BAD_SCENARIOS[name])
    assert_one_safe_line(str(info.value))
    assert name in str(info.value)


@pytest.mark.parametrize("exc", [TypeError("unhashable type: 'list'"), RecursionError("maximum recursion depth"),
                                 OverflowError("int too large"), ValueError("/srv/secret/model/scenarios.py line 3"),
                                 MemoryError()])
def test_any_exception_while_loading_an_upload_becomes_one_line(monkeypatch, exc):
    """Whatever the scenario parser raises (it is being hardened separately), the app shows one line."""
    from geogame.viz import session as session_mod

    def broken(*args, **kwargs):
        raise exc
    monkeypatch.setattr(session_mod, "parse_scenario", broken)
    with pytest.raises(InputError) as info:
        load_uploaded_scenario("mine.toml", b'title = "x"\n')
    assert_one_safe_line(str(info.value))
    assert "mine.toml" in str(info.value) and "/srv/secret" not in str(info.value)


def test_upload_size_limit_and_names():
    from geogame.viz.session import MAX_UPLOAD_BYTES, one_line, shown_file_name
    assert MAX_UPLOAD_BYTES == 1_000_000
    with pytest.raises(InputError, match=r"too large \(20,000,000 bytes\); a scenario file may be at most 1 MB"):
        load_uploaded_scenario("big.toml", b"", size=20_000_000)
    with pytest.raises(InputError, match="too large"):
        load_uploaded_scenario("big.toml", b"#" * (MAX_UPLOAD_BYTES + 1))
    assert shown_file_name("/home/x/../evil\x1b[31m.toml") == "evil?[31m.toml"
    assert len(shown_file_name("a" * 5000 + ".toml")) == 60
    assert one_line("line one\nline two\x7f") == "line one line two"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), -1.0, 201.0, "abc", None])
def test_check_lever_refuses_nan_inf_and_out_of_range(value):
    from geogame.viz.session import check_lever
    with pytest.raises(InputError, match=r"refused; allowed 0 to 200 \(%\)"):
        check_lever("usa.base_tariff_on_ind", value)
    assert check_lever("usa.base_tariff_on_ind", 150) == 150.0


def _errors(rc):
    import ipyvuetify as v
    try:
        return [str(w.children[0]) if w.children else "" for w in rc.find(v.Alert, type="error").widgets]
    except Exception:  # noqa: BLE001 - none shown
        return []


def _wait_for(condition, timeout=20.0):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_page_refuses_a_nan_lever_with_a_message(page):
    import ipyvuetify as v
    slider = page.find(v.Slider).widgets[0]  # the first lever: the US 'reciprocal' tariff
    before = page.find(v.Html, class_="geo-lever-label").widgets[0].children[0]
    slider.v_model = float("nan")
    assert any("refused" in e and "unchanged" in e for e in _errors(page)), _errors(page)
    assert page.find(v.Html, class_="geo-lever-label").widgets[0].children[0] == before
    speed = page.find(v.Slider).widgets[-1]  # the speed of Play
    speed.v_model = float("inf")
    assert any("Speed inf is refused" in e for e in _errors(page)), _errors(page)
    assert any("Speed: 2 quarters per second" in str(w.children) for w in page.find(v.Html, class_="geo-lever-label").widgets)
    _click(page, "geo-step")  # the game goes on
    assert _quarter(page) == "2026Q1"


def _pick_file(rc, monkeypatch, name, data, size=None, how="choose"):
    """Choose a file in the page's file picker (``how="choose"``) or drop it on the drop zone
    (``"drop"``) as the browser would: name and size first, the content only when the app reads it."""
    import io

    from ipyvuetify.extra import FileInput
    reads = []

    class Source(io.BytesIO):
        def read(self, n=-1):
            reads.append(n)
            return super().read(n)

    def get_files(self, timeout=30):
        return [{**f, "file_obj": Source(data)} for f in self.file_info]
    monkeypatch.setattr(FileInput, "get_files", get_files)
    widgets = rc.find(FileInput).widgets  # solara's FileDropZone is a FileInput too
    (widget,) = [w for w in widgets if (type(w) is FileInput) == (how == "choose")]
    widget.file_info = [{"name": name, "size": len(data) if size is None else size}]
    return reads


@pytest.mark.parametrize("name,how", [("list_base.toml", "choose"), ("nested.toml", "drop"),
                                      ("huge_int.toml", "choose"), ("unclosed.toml", "drop")])
def test_page_bad_upload_is_one_red_line_and_the_game_goes_on(page, monkeypatch, name, how):
    _click(page, "geo-step")
    _pick_file(page, monkeypatch, name, BAD_SCENARIOS[name], how=how)
    assert _wait_for(lambda: _errors(page)), "no error shown"
    (message,) = _errors(page)
    assert_one_safe_line(message)
    assert name in message and "unchanged" in message
    assert _quarter(page) == "2026Q1"
    _click(page, "geo-step")
    assert _quarter(page) == "2026Q2"


def test_page_any_exception_in_an_upload_is_one_red_line(page, monkeypatch):
    from geogame.viz import session as session_mod

    def broken(*args, **kwargs):
        raise TypeError("unhashable type: 'list' (/opt/server/model/scenarios.py)")
    monkeypatch.setattr(session_mod, "parse_scenario", broken)
    _pick_file(page, monkeypatch, "mine.toml", b'title = "x"\n')
    assert _wait_for(lambda: _errors(page)), "no error shown"
    (message,) = _errors(page)
    assert_one_safe_line(message)
    assert "mine.toml" in message and "/opt/server" not in message
    _click(page, "geo-step")
    assert _quarter(page) == "2026Q1"


@pytest.mark.parametrize("how", ["choose", "drop"])
def test_page_oversized_upload_is_refused_before_it_is_read(page, monkeypatch, how):
    reads = _pick_file(page, monkeypatch, "huge.toml", b"# small really\n", size=25_000_000, how=how)
    assert _wait_for(lambda: _errors(page)), "no error shown"
    (message,) = _errors(page)
    assert "too large" in message and "at most 1 MB" in message
    assert reads == []  # nothing was asked of the browser


def test_page_good_upload_is_loaded(page, monkeypatch):
    from geogame.model import GeopoliticsModel
    import ipyvuetify as v
    text = GeopoliticsModel(overrides={"usa.base_tariff_on_ind": 1.5}).scenario_toml().encode()
    reads = _pick_file(page, monkeypatch, "mine.toml", text)
    assert _wait_for(lambda: page.find(v.Alert, type="info").widgets), _errors(page)
    assert "Press Reset" in str(page.find(v.Alert, type="info").widget.children[0])
    assert reads and max(reads) <= 1_000_001 and not _errors(page)


# ------------------------------------------------------------------ other origins (viz/security.py)
def _scope(kind="http", host="127.0.0.1:8765", server=("127.0.0.1", 8765), **headers):
    raw = [(b"host", host.encode())] if host is not None else []
    raw += [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return {"type": kind, "scheme": "ws" if kind == "websocket" else "http", "server": server, "headers": raw,
            "path": "/"}


def test_refusal_rules():
    from geogame.viz.security import refusal
    own = "http://127.0.0.1:8765"
    assert refusal(_scope()) is None                                   # a typed URL, curl
    assert refusal(_scope(origin=own)) is None
    assert refusal(_scope("websocket", origin=own)) is None
    assert refusal(_scope("websocket", host="localhost:8765", origin="http://localhost:8765")) is None
    assert refusal(_scope(host="0.0.0.0:8765", origin="http://0.0.0.0:8765")) is None  # the address solara prints
    assert refusal(_scope(host="[::1]:8765", origin="http://[::1]:8765")) is None
    assert refusal(_scope("websocket", origin="http://evil.example")) == "the request comes from another origin"
    assert refusal(_scope("websocket", origin="http://127.0.0.1:9999")) is not None   # another local port
    assert refusal(_scope("websocket", origin="null")) is not None
    assert refusal(_scope(origin="http://evil.example")) is not None
    assert refusal(_scope(host="evil.example:8765")) is not None      # DNS rebinding
    assert refusal(_scope(host=None)) is not None
    # another site's <img>, fetch or frame is refused; a link from it (a navigation) opens the app
    assert refusal(_scope(sec_fetch_site="same-site", sec_fetch_mode="no-cors", sec_fetch_dest="image")) is not None
    assert refusal(_scope(sec_fetch_site="cross-site", sec_fetch_mode="navigate", sec_fetch_dest="iframe")) is not None
    assert refusal(_scope(sec_fetch_site="cross-site", sec_fetch_mode="navigate", sec_fetch_dest="document")) is None
    assert refusal(_scope(sec_fetch_site="same-origin", sec_fetch_mode="cors", origin=own)) is None
    # on a class network: the address the students typed, not the loopback names
    lan = ("192.168.1.10", 8765)
    assert refusal(_scope("websocket", host="192.168.1.10:8765", server=lan, origin="http://192.168.1.10:8765")) is None
    assert refusal(_scope("websocket", host="192.168.1.10:8765", server=lan, origin="http://localhost:8765")) is not None
    assert refusal(_scope(host="teacher.local:8765", server=lan)) is not None
    assert refusal(_scope(host="teacher.local:8765", server=lan), extra_hosts=["teacher.local"]) is None
    assert refusal({"type": "lifespan"}) is None


def test_origin_guard_answers_403_and_closes_foreign_websockets():
    import asyncio

    from geogame.viz.security import OriginGuard
    reached = []

    async def app(scope, receive, send):
        reached.append(scope["type"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def call(scope):
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b""}
        await OriginGuard(app, extra_hosts=[])(scope, receive, send)
        return sent

    sent = asyncio.run(call(_scope(origin="http://evil.example")))
    assert sent[0]["status"] == 403 and b"another origin" in sent[1]["body"] and not reached
    sent = asyncio.run(call(_scope("websocket", origin="http://evil.example")))
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}] and not reached
    sent = asyncio.run(call(_scope(origin="http://127.0.0.1:8765")))
    assert sent[0]["status"] == 200 and reached == ["http"]
    assert (b"content-security-policy", b"frame-ancestors 'self'") in sent[0]["headers"]


def test_install_puts_the_guard_first_once_and_sets_httponly():
    import solara.server.settings as solara_settings
    from starlette.applications import Starlette

    from geogame.viz.security import install
    app = Starlette()
    old = solara_settings.session.http_only
    try:
        solara_settings.session.http_only = False
        assert install(app) and install(app)
        assert [m.cls.__name__ for m in app.user_middleware].count("OriginGuard") == 1
        assert app.user_middleware[0].cls.__name__ == "OriginGuard"
        assert solara_settings.session.http_only is True
    finally:
        solara_settings.session.http_only = old


def test_page_model_failure_in_a_step_is_one_red_line(page, monkeypatch):
    """If the model raises while computing a quarter (issue 14: a LinAlgError after NaN), the page
    shows one line instead of a traceback, and a new run can be started."""
    import numpy as np

    from geogame.viz.session import GameSession, fmt

    def broken(self):
        raise np.linalg.LinAlgError("Singular matrix")
    monkeypatch.setattr(GameSession, "step", broken)
    _click(page, "geo-step")
    (message,) = _errors(page)
    assert_one_safe_line(message)
    assert "LinAlgError" in message and "Reset" in message
    assert _quarter(page) == "2025Q4"
    monkeypatch.undo()
    _click(page, "geo-reset")
    _click(page, "geo-step")
    assert _quarter(page) == "2026Q1" and not _errors(page)
    assert fmt("bn", float("nan")) == "n/a"


# ------------------------------------------------------------------ generated uploads
def _preset_text():
    from geogame.model import GeopoliticsModel
    return GeopoliticsModel(seed=0).scenario_toml()


def _mutations():
    from hypothesis import strategies as st
    base = _preset_text()
    junk = st.sampled_from(["[", "]", "{", "}", "=", '"', "\n", "9" * 400, "nan", "inf", "-", "[[events]]",
                            "base = []", "\x7f", "\x00", "é", "[settings]", "true", "1e999"])
    return st.tuples(st.integers(0, len(base)), st.integers(0, 40), junk).map(
        lambda t: (base[: t[0]] + t[2] + base[t[0] + t[1]:]).encode("utf-8", "surrogatepass"))


def test_any_generated_upload_loads_or_is_one_safe_line():
    """Random bytes, random text and presets with a piece cut out and junk put in: the upload either
    loads or is refused with one line naming the file (never another exception)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    tried = {"loaded": 0, "refused": 0}

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                     _mutations()))
    def check(data):
        try:
            load_uploaded_scenario("gen.toml", data)
            tried["loaded"] += 1
        except InputError as exc:
            assert_one_safe_line(str(exc))
            assert "gen.toml" in str(exc), str(exc)
            tried["refused"] += 1
    check()
    print(f"generated uploads: {tried}")
    assert tried["loaded"] + tried["refused"] >= 100 and tried["refused"] > 0


def test_a_huge_seed_is_one_short_line():
    for text in ("9" * 5000, "x" * 5000, "1" * 50):
        with pytest.raises(InputError) as info:
            parse_seed(text)
        assert len(str(info.value)) < 150, str(info.value)
        assert "2147483647" in str(info.value)
