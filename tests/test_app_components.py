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
    from geogame.viz.app import Page
    box, rc = solara.render(Page(), handle_error=False)
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


def test_page_network_colour_toggle_switches_to_change(page):
    import ipyvuetify as v
    import ipywidgets

    def network():
        return page.find(ipywidgets.Widget, attributes={"class": "geo-chart geo-chart-network"}).widget.unsafe_innerHTML

    _click(page, "geo-step")
    assert "other goods" in network() and "up 5% or more" not in network()
    page.find(v.BtnToggle, class_="geo-network-colour").widget.v_model = 1  # "change"
    assert "up 5% or more" in network() and "since last quarter" in network()
