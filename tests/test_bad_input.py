"""Bad input fails early with one clear line naming the field, the value and what is allowed."""
from __future__ import annotations

import pytest

from geogame.model import GeopoliticsModel, InputError, load_scenario
from geogame.model.scenarios import parse_scenario


@pytest.mark.parametrize("overrides, message", [
    ({"usa.oil_penalty": 0}, "did you mean 'usa.oil_penalty_t"),
    ({"usa.base_tariff_on_ind": -0.1}, "usa.base_tariff_on_ind = -0.1 is out of range; allowed values from 0 to 2"),
    ({"ind.crude_share_from_rus": 1.5}, "ind.crude_share_from_rus = 1.5 is out of range"),
    ({"eu.price_cap_usd": "cheap"}, "eu.price_cap_usd = 'cheap' is not a number"),
    ({"world.brent_usd": float("nan")}, "world.brent_usd = nan is out of range"),
    ({"usa.lookahead_quarters": 1.5}, "must be a whole number"),
    (["usa.base_tariff_on_ind"], "is not of the form owner.name=value"),
])
def test_bad_overrides(overrides, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        GeopoliticsModel("baseline", seed=1, overrides=overrides)


def test_unknown_scenario_suggests_nearest():
    with pytest.raises(InputError, match="unknown scenario 'baseln'; did you mean 'baseline'"):
        load_scenario("baseln")


def test_missing_scenario_file():
    with pytest.raises(InputError, match="does not exist"):
        load_scenario("no_such_file.toml")


@pytest.mark.parametrize("text, message", [
    ("title = 'x'\nquarters = [", "not valid TOML"),
    ("title = 'x'\nquarterz = 4", "field 'quarterz' is not known; did you mean 'quarters'"),
    ("base = 'dec2024'", "base = 'dec2024' is not known"),
    ("quarters = 0", "quarters = 0 is not allowed"),
    ("[settings]\nusa.base_tarif_on_ind = 0.1", "did you mean 'usa.base_tariff_on_ind'"),
    ("[settings]\neu.price_cap_usd = 500", "eu.price_cap_usd = 500 is out of range"),
    ("[rules]\nusa = 'clever'", "usa = 'clever' is not allowed; allowed: ai, best, scripted"),
    ("[[events]]\nquarter = '2024Q1'\nset = { 'eu.product_ban' = 1 }", "outside the run"),
    ("quarters = 4\n[[events]]\nquarter = '2031Q1'\nset = { 'eu.product_ban' = 1 }", "event dated 2031Q1 is outside the run"),
    ("[[events]]\nquarter = '2026Q5'\nset = { 'eu.product_ban' = 1 }", "not of the form YYYYQn"),
    ("[[events]]\nquarter = '2026Q2'\nset = { 'world.trade_elasticity' = 1 }", "fixed parameter, not a policy instrument"),
    ("[[events]]\nquarter = '2026Q2'\nset = { 'eu.product_ban' = 2 }", "eu.product_ban = 2 is out of range"),
])
def test_bad_scenario_files(text, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_scenario(text, name="class")


def test_run_length_checked_against_events():
    model = GeopoliticsModel("eu_secondary", seed=1)
    with pytest.raises(InputError, match="event dated 2026Q2 is outside the run 2026Q1..2026Q1"):
        model.run(1)
    with pytest.raises(InputError, match="quarters = 0 is not allowed"):
        model.run(0)
    assert model.quarter_label == "2025Q4", "nothing ran"


def test_infeasible_combination_is_refused_before_running():
    with pytest.raises(InputError, match=r"world.brent_usd = 35 .* too low for the 2025Q4 start: .* allowed from 43"):
        GeopoliticsModel("baseline", seed=1, overrides={"world.brent_usd": 35})


def test_bad_seed_and_rule():
    with pytest.raises(InputError, match="seed = -1"):
        GeopoliticsModel("baseline", seed=-1)
    with pytest.raises(InputError, match="rule 'genius' is not known"):
        GeopoliticsModel("baseline", seed=1, rules={"usa": "genius"})


def test_a_setting_given_twice_in_a_list_of_overrides_is_refused():
    """`validate --set k=1 --set k=2` (and the Python API) refuse, rather than keep the last value."""
    import pytest

    from geogame.model import InputError, normalise_overrides

    with pytest.raises(InputError, match="given twice"):
        normalise_overrides(["eu.price_cap_usd=40", "eu.price_cap_usd=50"])
    assert normalise_overrides(["eu.price_cap_usd=40"]) == {"eu.price_cap_usd": 40.0}
