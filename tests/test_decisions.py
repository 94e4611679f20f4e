"""Countries decide on purpose: horizon, anticipated replies, a way back for every lever, noise
against the stakes, India's autonomy and the EU measures in its welfare (issue 10, item 2)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geogame.agents.moves import MENUS, available_moves, find_move
from geogame.agents.utility import utility_terms
from geogame.model import COUNTRIES, GeopoliticsModel, list_scenarios
from geogame.model import economics
from geogame.model.instruments import INSTRUMENTS, get_instrument
from geogame.model.layout import current as _current_layout

#: Index of the arms buyer (India) among the crude buyers.
B_BUYER = _current_layout().index.b_buyer

ALL_BEST = {c: "best" for c in COUNTRIES}


def _value(advice: pd.DataFrame, move: str) -> float:
    return float(advice.set_index("move").loc[move, "value"])


# ----------------------------------------------------------------------------- purposeful India
def test_india_best_move_is_not_always_hold_in_any_preset():
    """India had `hold` as its best move in every one of 2,720 decisions before (issue 10)."""
    for scenario in list_scenarios():
        m = GeopoliticsModel(scenario.name, seed=1).run()
        india = m.decisions_frame().query("country == 'ind'")
        assert (india.best_move != "hold").any(), f"{scenario.name}: India never has a move better than holding"


def _india_accepting(overrides: dict) -> dict[str, float]:
    """India's value of accepting the US offer against holding, in total and by term (USD bn, present value)."""
    m = GeopoliticsModel("us_deal", seed=1, overrides=overrides)
    moves = available_moves("ind", m.world)
    values, terms, _, _ = m.evaluate([(m.countries["ind"], moves)])["ind"]
    k = [x.name for x in moves].index("accept_us_deal")
    out = {name: float(v[k] - v[0]) for name, v in terms.items()}
    out["value"] = float(values[k] - values[0])
    return out


#: A worse offer: a 45% tariff (against 50% today) for giving up Russian crude altogether.
WORSE_OFFER = {"usa.deal_tariff_on_ind": 0.45, "usa.deal_crude_ceiling": 0.0}


def test_us_deal_india_weighs_the_offer_on_its_merits():
    """Accept when the export gain outweighs the discount given up; refuse a worse offer."""
    good, worse = _india_accepting({}), _india_accepting(WORSE_OFFER)
    assert good["exports"] > -good["crude_bill"] > 0 and good["value"] > 1.0
    assert -worse["crude_bill"] > worse["exports"] > 0 and worse["value"] < 0.0
    values = [_india_accepting({"usa.deal_tariff_on_ind": t})["value"] for t in (0.15, 0.25, 0.35, 0.45)]
    assert all(a > b for a, b in zip(values, values[1:])), values


def test_india_accepts_the_us_deal_in_us_deal():
    accepted = 0
    for seed in range(1, 6):
        d = GeopoliticsModel("us_deal", seed=seed).run(4).decisions_frame()
        accepted += int((d.move == "accept_us_deal").any())
    assert accepted == 5


# ----------------------------------------------------------------------------- anticipated reply
def test_us_values_an_offer_with_india_s_anticipated_reply():
    """Before, the US valued an offer at exactly minus the policy-change cost (India's reply unseen)."""
    m = GeopoliticsModel("baseline", seed=1)
    advice = m.advice("usa").set_index("move")
    change = m.structure.p("world.policy_change_cost_usd_bn")
    assert abs(advice.loc["offer_deal", "value"] + change) > 1.0
    assert advice.loc["offer_deal", "expected_reply"] == "accept_us_deal"
    # the anticipated reply is India's own best reply: once the offer stands, India values acceptance above holding
    m.world.deal_offer[:] = 1.0
    assert _value(m.advice("ind"), "accept_us_deal") > 0.0
    # and the reason says what the US expects
    d = GeopoliticsModel("baseline", seed=1, rules=ALL_BEST).run(1).decisions_frame()
    offer = d.query("country == 'usa'").iloc[0]
    assert offer.move == "offer_deal" and offer.expected_reply == "accept_us_deal"
    assert "expects India to accept the US offer" in offer.reason


def test_a_worse_offer_is_expected_to_be_refused_and_then_not_made():
    m = GeopoliticsModel("baseline", seed=1, overrides=WORSE_OFFER)
    advice = m.advice("usa").set_index("move")
    assert advice.loc["offer_deal", "expected_reply"] == "hold"
    assert advice.loc["offer_deal", "value"] < 0.0


def test_penalty_moves_anticipate_whether_india_caps_its_russian_crude():
    """Raising the penalty from nothing: the US weighs India capping (or not) in reply."""
    m = GeopoliticsModel("no_oil_penalty", seed=1)
    advice = m.advice("usa").set_index("move")
    assert advice.loc["raise_oil_penalty", "expected_reply"] in ("hold", "cap_russian_crude")
    assert set(advice.expected_reply) <= {"hold", "cap_russian_crude", "accept_us_deal"}
    assert (advice.expected_reply != "").all()


@pytest.mark.parametrize("scenario", ["no_oil_penalty", "baseline"])
def test_the_anticipated_reply_is_india_s_own_best_reply_to_each_us_move(scenario):
    """For every US move, the reply the US expects is the answer India values highest (ties to
    holding) in the world after that move, valued independently with India's own look-ahead."""
    from geogame.agents.moves import ANTICIPATED_REPLIES

    m = GeopoliticsModel(scenario, seed=1)
    replier, answers = ANTICIPATED_REPLIES["usa"]
    assert replier == "ind"
    advice = m.advice("usa").set_index("move")
    informative = 0
    for move in advice.index:
        world = m._decision_world().copy()
        find_move("usa", move).apply(world, slice(0, 1))
        moves = available_moves("ind", world)
        values = m.evaluate([(m.countries["ind"], moves)], world=world)["ind"][0]
        own = {x.name: float(v - values[0]) for x, v in zip(moves, values)}
        options = {"hold": 0.0, **{a: own[a] for a in answers if a in own}}
        best = max(options, key=lambda a: (options[a] > 0.0, options[a]))
        best = best if options[best] > 0.0 else "hold"
        assert advice.loc[move, "expected_reply"] == best, (move, options)
        informative += best != "hold"
    assert informative >= 1   # at least one US move (the offer) is expected to change India's answer


# ---------------------------------------------------------------------------------- way back
def _instrument_values(world) -> np.ndarray:
    return np.array([float(get_instrument(world, key)[0]) for key in INSTRUMENTS])


def _world_where_available(m: GeopoliticsModel, country: str, name: str):
    """The baseline start, or the start after one other move of the same menu, where ``name`` is available."""
    start = m.world
    if name in [x.name for x in available_moves(country, start)]:
        return start
    for other in MENUS[country]:
        world = start.copy()
        if other.available(world)[0]:
            other.apply(world, slice(0, 1))
            if name in [x.name for x in available_moves(country, world)]:
                return world
    return None


def test_every_lever_has_a_way_back():
    """Every move (but a concluded deal or FTA) has a move on the same menu that takes it back."""
    m = GeopoliticsModel("baseline", seed=1)
    checked = 0
    for country, menu in MENUS.items():
        for move in menu:
            if move.kind == "hold" or getattr(move, "commitment", False):
                continue
            world = _world_where_available(m, country, move.name)
            assert world is not None, f"{country}.{move.name} is never available"
            before = _instrument_values(world)
            after_world = world.copy()
            move.apply(after_world, slice(0, 1))
            after = _instrument_values(after_world)
            changed = np.flatnonzero(~np.isclose(after, before))
            assert changed.size, f"{move.name} changes no instrument"
            backs = []
            for other in available_moves(country, after_world):
                again = after_world.copy()
                other.apply(again, slice(0, 1))
                step = _instrument_values(again) - after
                if all(step[i] * (after[i] - before[i]) < 0 for i in changed):
                    backs.append(other.name)
            assert backs, f"{country}: nothing on the menu takes back {move.name}"
            opposite = getattr(move, "opposite", None)
            assert opposite in backs, f"{move.name}: declared opposite {opposite!r} is not a way back"
            checked += 1
    assert checked >= 25


def test_only_the_concluded_agreements_are_one_way():
    one_way = {(m.country, m.name) for menu in MENUS.values() for m in menu if m.kind != "hold" and not m.opposite}
    assert one_way == {("ind", "accept_us_deal"), ("eu", "fta_with_india")}
    assert all(m.commitment for c, name in one_way for m in [find_move(c, name)])


# ---------------------------------------------------------------------------- noise and rules
def test_best_response_rule_gives_one_path_for_every_seed():
    runs = [GeopoliticsModel("baseline", seed=seed, rules=ALL_BEST).run(12) for seed in range(20)]
    first = runs[0]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(first.metrics_frame(), other.metrics_frame())
        pd.testing.assert_frame_equal(first.decisions_frame(), other.decisions_frame())
    d = first.decisions_frame()
    assert (d.move == d.best_move).all() and (d.probability == 1.0).all() and (d.rule == "best").all()


def test_best_response_ties_go_to_the_move_listed_first():
    from geogame.agents.country import BestResponse, best_index

    assert best_index(np.array([0.0, 0.0, -1.0])) == 0
    assert best_index(np.array([0.0, 2.0, 2.0 + 1e-12])) == 1
    values = np.array([[-1.0, 3.0, 3.0], [0.0, 0.0, -1.0]])   # a row per run
    probs = BestResponse().probabilities(values, 1.0)
    assert probs.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    index, probability = BestResponse().choose(values, 1.0, np.zeros(2), np.zeros(2, dtype=int))
    assert index.tolist() == [1, 0] and probability.tolist() == [1.0, 1.0]


def test_chosen_moves_follow_the_values_where_the_stakes_are_large():
    """With the default rationality a move is seldom chosen over a better one, never at a large loss."""
    d = pd.concat([GeopoliticsModel("baseline", seed=seed).run().decisions_frame() for seed in range(1, 11)])
    off_best = d.move != d.best_move
    assert off_best.mean() < 0.15, f"{off_best.mean():.0%} of choices are not the best move"
    # when the chosen move is not the best, the runner-up is: the gap is what the noise cost
    assert (d.runner_up_value - d.value)[off_best].max() < 1.0
    assert d.probability.between(0, 1).all()


def test_noise_does_not_ratchet_the_price_cap_or_the_us_tariffs():
    """Moves that are never the best seldom happen, and the cap does not drift one way."""
    caps, base, penalty = [], [], []
    for seed in range(1, 11):
        m = GeopoliticsModel("baseline", seed=seed).run()
        d = m.decisions_frame()
        for country, moves in (("eu", ("lower_price_cap", "raise_price_cap")),
                               ("usa", ("cut_tariff_on_ind", "raise_tariff_on_ind", "raise_oil_penalty",
                                        "lower_oil_penalty"))):
            mine = d[d.country == country]
            for name in moves:
                if not (mine.best_move == name).any():
                    assert (mine.move == name).sum() <= 1, f"{name} chosen {(mine.move == name).sum()} times, never best"
        caps.append(m.instruments()["eu.price_cap_usd"])
    assert np.median(caps) >= 40.0


# ------------------------------------------------------------------------------- the horizon
def test_the_closed_form_tail_is_close_to_rolling_on():
    """The default (4 quarters rolled and the closed-form tail) against rolling all 12 quarters.

    In four states: the December 2025 start, after the US deal, under EU secondary measures and
    after six quarters without the oil penalty. Where a counterpart is nearly indifferent between
    its replies a small error can flip the reply and move the proposer's values by what that reply
    is worth to it; the states here have no such knife edge, so the replies must agree.
    """
    from geogame.agents.country import best_index

    states = [("baseline", 0, {}), ("us_deal", 3, ALL_BEST), ("eu_secondary", 2, {**ALL_BEST, "eu": "scripted"}),
              ("no_oil_penalty", 6, ALL_BEST)]
    for scenario, quarters, rules in states:
        m = GeopoliticsModel(scenario, seed=1, rules=rules).run(quarters) if quarters else \
            GeopoliticsModel(scenario, seed=1, rules=rules)
        candidates = [(a, available_moves(c, m.world)) for c, a in m.countries.items()]
        full = m.evaluate(candidates, rollout=12)          # 12 quarters rolled, no tail
        quick = m.evaluate(candidates)                     # the default
        for country in quick:
            exact = full[country][0] - full[country][0][0]
            approx = quick[country][0] - quick[country][0][0]
            assert full[country][2] == quick[country][2], (scenario, country)   # same anticipated replies
            assert np.abs(exact - approx).max() < max(1.0, 0.1 * np.abs(exact).max()), (scenario, country, exact, approx)
            assert best_index(exact) == best_index(approx), (scenario, country)


def test_a_longer_horizon_sees_more_of_a_tariff_cut():
    """Trade closes 11% of its gap a quarter: 12 quarters see much more of the deal's export gain than 2."""
    gains = {}
    for horizon in (2, 12):
        m = GeopoliticsModel("us_deal", seed=1, overrides={"ind.lookahead_quarters": horizon})
        agent = m.countries["ind"]
        moves = available_moves("ind", m.world)
        _, terms, _, _ = m.evaluate([(agent, moves)])["ind"]
        k = [x.name for x in moves].index("accept_us_deal")
        gains[horizon] = float(terms["exports"][k] - terms["exports"][0])
    assert gains[12] > 4 * gains[2] > 0


def test_reasons_state_the_unit_and_horizon():
    d = GeopoliticsModel("us_deal", seed=2).run(3).decisions_frame()
    compared = d[(d.move != d.runner_up) & (d.rule != "scripted")]  # us_deal scripts the US
    assert len(compared) > 0 and compared.reason.str.contains(r"present value over 12 quarters").all()


def test_no_decision_value_is_nan_even_at_the_edges_of_the_settings():
    edges = {"world.decision_discount": 1.0, "ind.lookahead_quarters": 40, "usa.lookahead_quarters": 1,
             "world.alignment_anchor_pull": 0.0, "world.trade_adjustment": 1.0, "world.arms_adjustment": 1.0,
             "world.rupee_drain": 0.0, "ind.rationality": 50.0, "eu.rationality": 0.0}
    for scenario in ("baseline", "us_deal", "eu_secondary", "hindcast"):
        for overrides in ({}, edges):
            m = GeopoliticsModel(scenario, seed=3, overrides=overrides).run()
            d = m.decisions_frame()
            assert np.isfinite(d[["value", "runner_up_value", "probability"]].to_numpy(dtype=float)).all(), scenario
            for country in COUNTRIES:
                assert np.isfinite(m.advice(country).value).all()


# ----------------------------------------------------------------------- India's welfare terms
def test_cutting_a_dominant_crude_supplier_raises_india_s_autonomy():
    m = GeopoliticsModel("baseline", seed=1)
    world = m.world.repeat(4)
    world.crude_share[:, B_BUYER] = [0.60, 0.35, 0.10, 0.0]
    autonomy = economics.india_autonomy(world, m.structure)
    assert autonomy[0] < autonomy[1] < autonomy[2]       # less Russian crude, more diversified
    assert autonomy[3] < autonomy[2]                     # but none at all concentrates on the Gulf again


def test_eu_product_ban_and_secondary_measures_cost_india_per_russian_barrel():
    m = GeopoliticsModel("baseline", seed=1)
    world = m.world.repeat(3)
    world.product_ban[:] = [0.0, 1.0, 1.0]
    world.eu_secondary_on_ind[:] = [0.0, 0.0, 1.0]
    terms = utility_terms("ind", world, economics.utility_metrics(world, m.structure), m.structure)
    cost = terms["eu_measures_cost"]
    barrels = m.structure.crude_imports_mbd[B_BUYER] * world.crude_share[0, B_BUYER]
    per_bbl = m.structure.p("world.product_ban_cost_usd")
    assert cost[0] == 0.0
    assert cost[1] == pytest.approx(-per_bbl * barrels * 0.365 / 4.0)
    assert cost[2] < cost[1] < 0.0
    world.crude_share[:, B_BUYER] = 0.0
    terms = utility_terms("ind", world, economics.utility_metrics(world, m.structure), m.structure)
    assert (terms["eu_measures_cost"] == 0.0).all()


def test_decision_settings_say_where_they_come_from():
    from geogame.model import SETTINGS

    for key in ("world.decision_discount", "ind.crude_other_suppliers_hhi", "usa.rationality", "ind.lookahead_quarters"):
        spec = SETTINGS[key]
        assert spec.kind in ("data", "judgement", "literature", "calibrated") and len(spec.source) > 30
    assert math.isclose(SETTINGS["ind.lookahead_quarters"].default, 12)


# --------------------------------------------------------------------------- batched menus
def test_availability_and_backing_down_answer_row_by_row_on_a_batch():
    """``Move.available`` and ``Move.backs_down`` take a batch and answer for each of its worlds:
    on a batch made of different worlds, row ``k`` equals the answer for world ``k`` alone."""
    worlds = []
    for scenario in ("baseline", "us_deal", "eu_secondary"):
        m = GeopoliticsModel(scenario, seed=1)
        worlds.append(m.world)
        for country, menu in MENUS.items():
            for move in menu[1:]:
                w = m.world.copy()
                move.apply(w, slice(0, 1))
                worlds.append(w)
    batch = worlds[0].repeat(len(worlds))
    for name, value in vars(batch).items():
        if isinstance(value, np.ndarray):
            setattr(batch, name, np.concatenate([getattr(w, name) for w in worlds]))
    differ = 0
    for country, menu in MENUS.items():
        for move in menu:
            for test in (move.available, move.backs_down):
                rows = test(batch)
                assert isinstance(rows, np.ndarray) and rows.shape == (len(worlds),) and rows.dtype == bool
                alone = np.array([test(w)[0] for w in worlds])
                assert (rows == alone).all(), f"{country}.{move.name}: {test} differs on a batch"
                differ += int(rows.any() and not rows.all())
    assert differ >= 5   # the batch really mixes worlds where moves are and are not available
