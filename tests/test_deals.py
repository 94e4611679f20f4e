"""Deals between players (India proposes too) and the debrief's score in the model's own units.

The class game's deals are read from the player files (``DEALS``) by :mod:`geogame.viz.deals`;
India's are played here end to end through the Classroom API, as a class would play them.
"""
import numpy as np
import pandas as pd
import pytest

from geogame.agents.utility import utility_terms
from geogame.model import GeopoliticsModel
from geogame.model.economics import utility_metrics
from geogame.viz import deals
from geogame.viz.classroom import ClassError, ClassRegistry, ClassStore, replay_file


@pytest.fixture
def reg(tmp_path):
    r = ClassRegistry(ClassStore(tmp_path / "class.sqlite3"))
    yield r
    r.close()


# ------------------------------------------------------------------------------ declarations
def test_india_can_propose_deals_to_the_us_the_eu_and_russia():
    offered = {d.kind: d for d in deals.deals_from("ind")}
    assert set(offered) == {"ind_us_deal", "ind_eu_fta", "ind_coproduction"}
    assert {d.receiver for d in offered.values()} == {"usa", "eu", "rus"}
    us = offered["ind_us_deal"]
    assert [t.key for t in us.terms] == ["tariff", "ceiling", "own_tariff"]
    assert us.commits == (("ind", "accept_us_deal", 0),)      # India's own move accepts the deal it proposed
    assert offered["ind_eu_fta"].commits == (("eu", "fta_with_india", 0),)   # the EU's move concludes the FTA
    # India's counter-proposal and the US's offer are the same US-India deal; the others are not
    assert deals.is_us_deal("ind_us_deal") and deals.is_us_deal("us_india_deal")
    assert not any(deals.is_us_deal(k) for k in ("ind_eu_fta", "eu_india_fta", "ind_coproduction", "rus_discount_arms"))
    # every deal's defaults pass its own checks, and every committed move has words
    for kind in deals.DEALS:
        deals.check_terms(kind, {})
        assert all(m in deals.COMMIT_WORDS for _, m, _ in deals.DEALS[kind].commits)
    words = deals.describe("ind_us_deal", deals.check_terms("ind_us_deal", {"tariff": 0.1, "own_tariff": 0.04}))
    assert words.startswith("India offers United States a ceiling on its Russian crude")
    assert "US tariff on Indian goods 10%" in words and "India's tariff on US goods 4%" in words
    assert "India formally accepts the US-India deal on these terms as its move this round" in words


@pytest.mark.parametrize("terms, message", [
    ({"ceiling": 0.45}, "India's ceiling on Russian crude = '0.45' is not allowed; allowed 0% to 40% in steps of 5%"),
    ({"own_tariff": 0.05}, "India's tariff on US goods = '0.05' is not allowed; allowed 0% to 30% in steps of 2%"),
    ({"tariff": "lots"}, "US tariff on Indian goods = 'lots' is not allowed; allowed 0% to 50% in steps of 5%"),
    ({"tariff": float("nan")}, "US tariff on Indian goods = 'nan' is not allowed"),
    ({"discount": 2}, "term 'discount' is not a term of a ceiling on its Russian crude"),
])
def test_out_of_range_terms_are_refused_with_one_clear_line(terms, message):
    with pytest.raises(ValueError) as err:
        deals.check_terms("ind_us_deal", terms)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_india_s_deal_sets_the_us_offer_on_its_terms_and_its_own_tariff():
    terms = deals.check_terms("ind_us_deal", {"tariff": 0.05, "ceiling": 0.4, "own_tariff": 0.02})
    assert deals.enforcement("ind_us_deal", terms, {}) == {
        "usa.deal_offer": 1.0, "usa.deal_tariff_on_ind": 0.05, "usa.deal_crude_ceiling": 0.4, "ind.tariff_on_usa": 0.02}
    assert deals.enforcement("ind_eu_fta", {}, {}) == {}    # the EU's move does it
    # a second US-India deal is refused whoever proposes it; the FTA needs the EU's move on its menu
    assert deals.unavailable("ind_us_deal", terms, {}, {}, deal_concluded=True) == "a US-India deal is already in force"
    assert deals.unavailable("ind_us_deal", terms, {}, {}, deal_concluded=False) == ""
    assert deals.unavailable("ind_eu_fta", {}, {"eu": ["hold"]}, {}, False) == \
        "European Union cannot make that move this quarter"
    assert deals.unavailable("ind_eu_fta", {}, {"eu": ["hold", "fta_with_india"]}, {}, False) == ""


# ------------------------------------------------------------------------- played end to end
def test_an_india_proposed_deal_accepted_by_the_us_changes_the_world_as_declared(reg, tmp_path):
    """India offers the US a 40% ceiling and a 2% Indian tariff for a 5% US tariff; the US accepts
    in the round; the round resolves: the US offer is in force on India's terms, India's move of
    the round is its formal acceptance, the US tariff and India's tariff are the agreed ones and
    the ceiling binds. The same round India proposes the FTA to the EU, which accepts: the EU's
    move concludes it. A second US-India deal is refused afterwards. India's $bn score against
    the AI in its seat is positive (the AI in India's seat gets no such deal) and flips sign
    when the paths swap."""
    game, key = reg.create("baseline", seed=7, countries=["usa", "ind", "eu"])
    s = {c: game.join(f"team {c}", c) for c in ("usa", "ind", "eu")}
    game.start(key)
    with pytest.raises(ClassError, match="only India can offer"):
        game.offer(s["usa"].code, "ind_us_deal", {})
    with pytest.raises(ClassError, match="India's ceiling on Russian crude = '0.5' is not allowed"):
        game.offer(s["ind"].code, "ind_us_deal", {"ceiling": 0.5})
    with pytest.raises(ClassError, match="nobody plays Russia"):
        game.offer(s["ind"].code, "ind_coproduction")
    before = game.model.instruments()
    assert before["eu.tariff_on_ind"] > 0 and before["ind.tariff_on_usa"] != 0.02
    offer = game.offer(s["ind"].code, "ind_us_deal", {"tariff": 0.05, "ceiling": 0.4, "own_tariff": 0.02},
                       note="our counter-proposal")
    fta = game.offer(s["ind"].code, "ind_eu_fta")
    with pytest.raises(ClassError, match="made to United States, not to you"):
        game.answer(s["eu"].code, offer["id"], True)
    game.answer(s["usa"].code, offer["id"], True)
    game.answer(s["eu"].code, fta["id"], True)
    assert game.fixed_moves() == {"ind": ("accept_us_deal", offer["id"]), "eu": ("fta_with_india", fta["id"])}
    with pytest.raises(ClassError, match="fixed by the deal"):
        game.submit(s["ind"].code, "hold")
    game.submit(s["usa"].code, "hold")
    game.advance(key)

    plays = game.rounds[-1]["plays"]
    assert plays["ind"]["move"] == "accept_us_deal" and plays["eu"]["move"] == "fta_with_india"
    ins = game.model.instruments()
    assert ins["usa.deal_tariff_on_ind"] == 0.05 and ins["usa.deal_crude_ceiling"] == 0.4
    assert ins["ind.tariff_on_usa"] == 0.02 and ins["ind.crude_ceiling"] == 0.4 and ins["eu.tariff_on_ind"] == 0.0
    last = game.model.metrics_frame().iloc[-1]
    assert abs(last["tariff_usa_on_ind"] - 0.05) < 1e-9 and last["oil_penalty_in_force"] == 0
    assert [o["status"] for o in game.offers_log()] == ["enforced", "enforced"]
    assert game.rounds[-1]["events"]["ind.tariff_on_usa"] == 0.02
    assert deals.us_deal_accepted(game.rounds)
    with pytest.raises(ClassError, match="a US-India deal is already in force"):
        game.offer(s["ind"].code, "ind_us_deal", {})
    with pytest.raises(ClassError, match="a US-India deal is already in force"):
        game.offer(s["usa"].code, "us_india_deal", {})
    game.submit(s["ind"].code, "hold")
    game.advance(key)
    # the export keeps the deal's events (India's tariff on US goods too): it replays exactly
    file = tmp_path / "game.json"
    file.write_text(game.export_json())
    pd.testing.assert_frame_equal(replay_file(file).metrics_frame(), game.model.metrics_frame())

    # the score in the model's own units: India's team against the AI in India's seat
    ai = game.team_path("ind")
    assert ai.metrics_frame().iloc[-1]["tariff_usa_on_ind"] > 0.05     # the AI had no such deal
    gain, table = deals.utility_gain("ind", game.model, ai)
    assert gain > 0
    assert table.iloc[-1]["term"] == "total" and abs(table.iloc[-1]["difference"] - gain) < 1e-9
    assert abs(table.iloc[:-1]["difference"].sum() - gain) < 1e-9
    back, _ = deals.utility_gain("ind", ai, game.model)
    assert back == pytest.approx(-gain, abs=1e-9)
    words = deals.utility_gain_in_words("ind", gain, table, len(game.rounds))
    assert words.startswith(f"The team playing India: its moves were worth ${gain:.1f}bn more than the AI's")
    assert "over 2 quarters" in words and "undiscounted" in words and "the largest difference:" in words
    shown = deals.utility_gain_shown(table)
    assert list(shown.columns) == ["utility term", "team ($bn)", "AI in its seat ($bn)", "difference ($bn)"]
    assert shown.iloc[-1]["difference ($bn)"] == f"{gain:+,.1f}" and shown.iloc[-1]["utility term"] == "total"


def test_india_proposes_co_production_to_russia(reg):
    game, key = reg.create("baseline", seed=3, countries=["ind", "rus"])
    ind, rus = game.join("Asha", "ind"), game.join("Ravi", "rus")
    game.start(key)
    before = game.model.instruments()
    offer = game.offer(ind.code, "ind_coproduction")
    game.answer(rus.code, offer["id"], True)
    game.advance(key)
    plays = game.rounds[-1]["plays"]
    assert plays["rus"]["move"] == "coproduction_offer" and plays["ind"]["move"] == "arms_tilt_russia"
    after = game.model.instruments()
    assert after["rus.coproduction_offer"] == before["rus.coproduction_offer"] + 0.5
    assert after["ind.arms_tilt_west"] == before["ind.arms_tilt_west"] - 0.5


# ------------------------------------------------------------------------------ the $bn score
def _played(seed: int, india: list[str], quarters: int = 3) -> GeopoliticsModel:
    """The baseline with India's moves given and everybody else by the AI."""
    model = GeopoliticsModel(scenario="baseline", seed=seed, rules={"ind": "human"})
    for move in india[:quarters]:
        model.submit_move("ind", move)
        model.step()
    return model


def test_the_utility_read_is_the_models_utility_term_by_term():
    """utility_by_quarter replays a path and reads each country's utility terms after every
    quarter; they are the model's own (agents.utility.utility_terms, which the look-ahead values)."""
    model = GeopoliticsModel(scenario="baseline", seed=5, rules={"ind": "human"})
    expected = {c: [] for c in ("usa", "rus", "ind", "eu")}
    for move in ("retaliate_tariff", "trade_push_russia", "hold"):
        model.submit_move("ind", move)
        model.step()
        m = utility_metrics(model.world, model.structure)
        for c in expected:
            expected[c].append({k: float(v[0]) for k, v in utility_terms(c, model.world, m, model.structure).items()})
    for c, rows in expected.items():
        got = deals.utility_by_quarter(c, model)
        assert list(got["quarter"]) == ["2026Q1", "2026Q2", "2026Q3"]
        want = pd.DataFrame(rows)
        pd.testing.assert_frame_equal(got[list(want.columns)], want, rtol=1e-12, atol=1e-12)
        assert np.allclose(got["total"], want.sum(axis=1))


def test_the_bn_score_is_positive_for_the_better_path_and_flips_when_the_paths_swap():
    """India holding against India raising its tariff on US goods three times, everybody else by
    the AI with the same draws: the score is positive for the path that did better by India's
    utility, its sign flips when the paths swap, its terms add up to it, and a path against
    itself scores zero (said in words as "the same")."""
    hold = _played(9, ["hold"] * 3)
    war = _played(9, ["retaliate_tariff"] * 3)
    gain, table = deals.utility_gain("ind", hold, war)
    u_hold = deals.utility_by_quarter("ind", hold)["total"].sum()
    u_war = deals.utility_by_quarter("ind", war)["total"].sum()
    assert gain == pytest.approx(u_hold - u_war, abs=1e-9) and gain > 0
    back, _ = deals.utility_gain("ind", war, hold)
    assert back == pytest.approx(-gain, abs=1e-9)
    assert table.iloc[:-1]["difference"].sum() == pytest.approx(gain, abs=1e-9)
    assert "more than the AI's" in deals.utility_gain_in_words("ind", gain, table, 3)
    assert "less than the AI's" in deals.utility_gain_in_words("ind", back, _, 3)
    same, table_same = deals.utility_gain("ind", war, war)
    assert same == 0 and set(table_same["difference"]) == {0.0}
    assert "worth the same as the AI's" in deals.utility_gain_in_words("ind", same, table_same, 3)


def test_a_country_that_is_not_a_player_is_refused_in_one_line():
    with pytest.raises(ValueError, match="country 'chn' is not a player; allowed: usa, rus, ind, eu"):
        deals.utility_by_quarter("chn", GeopoliticsModel(scenario="baseline", seed=1))


def test_india_s_role_brief_lists_the_deals_it_can_propose_and_what_they_commit():
    from geogame.viz.briefs import brief_html
    page = brief_html("ind")
    assert "You can offer United States a ceiling on its Russian crude and a lower Indian tariff on US goods" in page
    assert "India&#x27;s tariff on US goods 0% to 30%" in page
    assert ("You can offer European Union the EU-India free-trade agreement (EU tariffs on Indian goods to zero); "
            "if accepted, European Union concludes the FTA as its move in that round.") in page
    assert "You can offer Russia an arms order for more Russian co-production in India" in page
    us = brief_html("usa")
    assert "India may offer you a ceiling on its Russian crude" in us
    assert "(if accepted, India formally accepts the US-India deal on these terms as its move in that round)" in us


def test_the_us_offer_and_india_s_counter_proposal_cannot_both_be_accepted_in_a_round(reg):
    """Both sides put a US-India deal on the table in the same round; once one is accepted the
    other's acceptance is refused (India's move is already committed), and the one accepted is
    the one enforced."""
    game, key = reg.create("baseline", seed=4, countries=["usa", "ind"])
    us, ind = game.join("Uma", "usa"), game.join("Ian", "ind")
    game.start(key)
    theirs = game.offer(us.code, "us_india_deal", {"tariff": 0.25, "ceiling": 0.1})
    mine = game.offer(ind.code, "ind_us_deal", {"tariff": 0.1, "ceiling": 0.3, "own_tariff": 0.1})
    game.answer(us.code, mine["id"], True)
    with pytest.raises(ClassError, match="India's move this round is already fixed by another deal"):
        game.answer(ind.code, theirs["id"], True)
    game.advance(key)
    assert [o["status"] for o in game.offers_log()] == ["expired", "enforced"]
    ins = game.model.instruments()
    assert (ins["usa.deal_tariff_on_ind"], ins["usa.deal_crude_ceiling"], ins["ind.tariff_on_usa"]) == (0.1, 0.3, 0.1)


def test_india_s_seat_form_offers_its_deals_without_a_change_to_the_app(reg):
    """The class page's offer form lists the deals a country declares: India's team picks its
    terms in their steps and sends its counter-proposal to the US, then the FTA to the EU."""
    import ipyvuetify as v
    import solara

    from geogame.viz.class_app import OfferForm
    game, key = reg.create("baseline", seed=7, countries=["usa", "ind", "eu"])
    ind = game.join("Asha", "ind")
    game.join("Ben", "usa"), game.join("Eva", "eu")
    game.start(key)
    _, rc = solara.render(OfferForm(game, ind.code, "ind", lambda fn: fn), handle_error=False)
    kind = rc.find(v.Select, class_="geo-class-offer-kind").widget
    assert kind.items == [d.title for d in deals.deals_from("ind")]
    own = rc.find(v.Select, class_="geo-class-term-own_tariff").widget
    assert own.items[:3] == ["0%", "2%", "4%"] and own.items[-1] == "30%" and own.v_model == "12%"
    own.v_model = "4%"
    rc.find(v.Btn, class_="geo-class-send-offer").widget.click()
    kind.v_model = kind.items[1]
    send = rc.find(v.Btn, class_="geo-class-send-offer").widget
    assert send.children == ["Send the offer to European Union"]
    send.click()
    log = game.offers_log()
    assert [(o["kind"], o["to"]) for o in log] == [("ind_us_deal", "usa"), ("ind_eu_fta", "eu")]
    assert log[0]["terms"] == {"tariff": 0.15, "ceiling": 0.1, "own_tariff": 0.04}
