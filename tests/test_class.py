"""The class game without a browser: seats, rounds, the teacher's key, the store, replay, export."""
import json
import threading
import time

import pandas as pd
import pytest

from geogame.model import GeopoliticsModel
from geogame.viz.classroom import (ClassError, ClassRegistry, ClassStore, GAME_CODE_LENGTH, SEAT_CODE_LENGTH,
                                   play_path, replay, replay_file)


@pytest.fixture
def reg(tmp_path):
    r = ClassRegistry(ClassStore(tmp_path / "class.sqlite3"))
    yield r
    r.close()


def test_one_model_per_game_and_the_ai_plays_empty_seats(reg):
    game, key = reg.create("baseline", seed=3, countries=["ind", "usa"])
    assert len(game.code) == GAME_CODE_LENGTH and len(key) >= 20
    a = game.join("Asha", "ind")
    b = game.join("Ben", "ind")      # a team of two
    c = game.join("Cy")              # assigned: the country with the fewest students
    assert c.country == "usa" and len(a.code) == SEAT_CODE_LENGTH
    assert game.seat_view(a.code)["team"] == ["Asha", "Ben"]
    with pytest.raises(ClassError, match="not open"):
        game.submit(a.code, "hold")
    game.start(key)
    game.submit(a.code, "hold")
    game.submit(b.code, "cap_russian_crude")  # the last submission of a team counts
    assert game.seat_view(a.code)["chosen"] == "cap_russian_crude"
    assert game.shared_view()["submitted"] == ["ind"]  # who moved, not what
    game.advance(key)
    plays = game.rounds[0]["plays"]
    assert plays["ind"] == {"rule": "human", "move": "cap_russian_crude", "by": "Ben"}
    assert plays["usa"]["rule"] == "human" and plays["usa"]["move"] == "hold"  # no move in time: held
    assert plays["rus"]["rule"] == "ai" and plays["eu"]["rule"] == "ai"
    assert game.shared_view()["quarter"] == "2026Q1" and game.round == 2


def test_a_student_moves_only_for_their_own_country_and_only_the_teacher_runs_rounds(reg):
    game, key = reg.create("baseline", seed=1, countries=["ind", "usa"])
    ind = game.join("Asha", "ind")
    for bad in (None, "", "x" * 30, key.upper(), "wrong"):
        with pytest.raises(ClassError, match="teacher"):
            game.start(bad)
    game.start(key)
    with pytest.raises(ClassError, match="not a move India can make"):
        game.submit(ind.code, "offer_deal")  # a US move: the seat's country is India
    with pytest.raises(ClassError, match="no seat"):
        game.submit("ABCDEFGH", "hold")
    for action in (game.pause, game.advance, lambda k: game.set_deadline(k, 30), lambda k: game.set_locked(k, True),
                   lambda k: game.set_policy(k, "ai"), game.teacher_view):
        with pytest.raises(ClassError, match="teacher"):
            action(ind.code)
    assert game.round == 1


def test_two_games_do_not_leak(reg):
    g1, k1 = reg.create("baseline", seed=1, countries=["ind"])
    g2, k2 = reg.create("us_deal", seed=2, countries=["ind"])
    s1 = g1.join("one", "ind")
    with pytest.raises(ClassError):
        g2.seat(s1.code)
    with pytest.raises(ClassError):
        g2.start(k1)
    g1.start(k1)
    g1.submit(s1.code, "cap_russian_crude")
    g1.advance(k1)
    assert g1.shared_view()["quarter"] == "2026Q1" and g2.shared_view()["quarter"] == "2025Q4"
    assert g2.shared_view()["teams"]["ind"] == [] and g2.model is not g1.model


def test_restart_resumes_from_the_store_and_replays_exactly(tmp_path):
    path = tmp_path / "class.sqlite3"
    reg = ClassRegistry(ClassStore(path))
    game, key = reg.create("baseline", seed=7, countries=["ind", "usa", "rus"], policy="ai")
    seats = {c: game.join(f"team {c}", c) for c in ("ind", "usa", "rus")}
    game.start(key)
    moves = [{"ind": "cap_russian_crude", "usa": "hold"}, {"ind": "trade_push_russia", "rus": "hold"},
             {"usa": None}]  # None: the second move on the menu then
    for rnd in moves:
        for c, mv in rnd.items():
            mv = mv or game.seat_view(seats[c].code)["menu"][1][0]
            game.submit(seats[c].code, mv)
        game.advance(key)
    game.submit(seats["ind"].code, "hold")  # submitted, not yet resolved: must survive too
    live_metrics, live_decisions = game.model.metrics_frame(), game.model.decisions_frame()
    code = game.code
    reg.close()
    reg.store.close()
    # "restart": a new registry on the same file
    reg2 = ClassRegistry(ClassStore(path))
    again = reg2.get(code.lower())
    pd.testing.assert_frame_equal(again.model.metrics_frame(), live_metrics)
    pd.testing.assert_frame_equal(again.model.decisions_frame(), live_decisions)
    assert again.round == 4 and again.status == "open" and again.pending["ind"][0] == "hold"
    assert again.seat(seats["usa"].code).country == "usa"
    assert again.is_teacher(key)
    # the same game, on the same path: a fresh model with the same moves gives the same tables
    again.advance(key)
    data = json.loads(again.export_json())
    assert "seat_code" not in json.dumps(data) and key not in json.dumps(data)
    file = tmp_path / "game.json"
    file.write_text(json.dumps(data))
    replayed = replay_file(file)
    pd.testing.assert_frame_equal(replayed.metrics_frame(), again.model.metrics_frame())
    pd.testing.assert_frame_equal(replayed.decisions_frame(), again.model.decisions_frame())
    # an edited file does not replay silently
    data["rounds"][0]["plays"]["ind"]["move"] = "hold"
    file.write_text(json.dumps(data))
    with pytest.raises(ClassError, match="does not replay as recorded"):
        replay_file(file)
    reg2.close()


def test_a_human_move_equal_to_the_ai_draws_differs_from_the_all_ai_run():
    """Determinism needs the rule of every country in every round, not only its move: an AI
    country draws a random number, a person does not (so the replay sets both)."""
    ai = GeopoliticsModel(scenario="baseline", seed=4)
    ai.step()
    rounds = [{"round": 1, "quarter": "2026Q1",
               "plays": {c: {"rule": "ai", "move": m} for c, m in
                         zip(ai.decisions_frame()["country"], ai.decisions_frame()["move"])}}]
    text = GeopoliticsModel(scenario="baseline", seed=4).scenario_toml()
    again = replay(text, 4, rounds, "baseline")
    pd.testing.assert_frame_equal(again.metrics_frame(), ai.metrics_frame())


def test_deadline_resolves_the_round_and_listeners_hear_it(reg):
    game, key = reg.create("baseline", seed=1, countries=["ind"], policy="ai")
    seat = game.join("Asha", "ind")
    heard = threading.Event()
    game.add_listener("page", heard.set)
    game.start(key)
    game.set_deadline(key, 5)
    assert 4 < game.seconds_left() <= 5
    game.pause(key)
    assert game.status == "paused" and 4 < game.seconds_left() <= 5
    with pytest.raises(ClassError, match="not open"):
        game.submit(seat.code, "hold")
    game.start(key)
    heard.clear()
    deadline = time.time() + 10
    while game.round == 1 and time.time() < deadline:
        time.sleep(0.1)
    assert game.round == 2 and heard.wait(2)
    assert game.rounds[0]["plays"]["ind"]["rule"] == "ai"  # no move in time, policy "ai"
    game.close()


def test_names_and_messages_are_cleaned(reg):
    game, key = reg.create("baseline", seed=1, countries=["ind"])
    seat = game.join("<script>alert(1)</script>\n\x00" + "x" * 100, "ind")
    assert "\n" not in seat.name and "\x00" not in seat.name and len(seat.name) <= 40
    game.send_message(seat.code, "<b>hi</b>\r\nthere")
    assert game.shared_view()["messages"][-1]["text"] == "<b>hi</b> there"  # escaped where shown
    with pytest.raises(ClassError):
        game.send_message(seat.code, "   ")


def test_a_solo_run_downloads_as_a_replay_file_that_keeps_the_moves_and_the_seed(tmp_path):
    """The solo app's download reproduces a played run (before, the scenario file kept neither the
    student's moves, nor who played, nor the seed)."""
    from geogame.viz.session import GameSession
    session = GameSession("baseline", seed=11)
    session.new_run(overrides={"usa.base_tariff_on_ind": 0.3}, play_as="ind")
    for move in ("cap_russian_crude", "hold", "trade_push_russia"):
        session.play_move(move)
    file = tmp_path / "solo.json"
    file.write_text(json.dumps(session.replay_record()))
    replayed = replay_file(file)
    pd.testing.assert_frame_equal(replayed.metrics_frame(), session.model.metrics_frame())
    pd.testing.assert_frame_equal(replayed.decisions_frame(), session.model.decisions_frame())
    played = replayed.decisions_frame()
    assert list(played[played["country"] == "ind"]["move"]) == ["cap_russian_crude", "hold", "trade_push_russia"]


def test_reading_the_solo_session_while_play_steps_it():
    """The Play thread steps the model while the page reads it: reads go through the session's
    lock and quarters_done no longer builds the metrics table."""
    from geogame.viz.session import GameSession
    session = GameSession("baseline", seed=1)
    errors = []

    def play():
        try:
            while session.step():
                pass
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=play)
    thread.start()
    while thread.is_alive():
        try:
            with session.lock:   # the Play thread steps under the same lock
                assert session.quarters_done == len(session.metrics()) - 1
            session.headlines()
            session.event_log()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
            break
    thread.join()
    assert not errors and session.finished


def test_picking_another_scenario_keeps_the_sliders_the_student_moved():
    from geogame.viz.app import keep_moved_levers
    old = {"a": 1.0, "b": 2.0}
    new = {"a": 5.0, "b": 6.0}
    assert keep_moved_levers({"a": 1.0, "b": 9.0}, old, new) == {"a": 5.0, "b": 9.0}


def test_geogame_class_replay_and_export_from_the_command_line(tmp_path, capsys):
    from geogame.experiments.cli import main
    db = tmp_path / "class.sqlite3"
    reg = ClassRegistry(ClassStore(db))
    game, key = reg.create("baseline", seed=5, countries=["ind"])
    seat = game.join("Asha", "ind")
    game.start(key)
    game.submit(seat.code, "cap_russian_crude")
    game.advance(key)
    game.advance(key)
    expected = game.model.metrics_frame()
    reg.close()
    assert main(["class", "list", "--db", str(db)]) == 0
    assert game.code in capsys.readouterr().out
    out = tmp_path / "game.json"
    assert main(["class", "export", game.code, "--db", str(db), "--out", str(out)]) == 0
    csv = tmp_path / "run.csv"
    assert main(["class", "replay", str(out), "--out", str(csv)]) == 0
    assert "moves by people: 2 (India)" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(csv), pd.read_csv(pd.io.common.StringIO(expected.to_csv(index=False))))
    assert main(["class", "replay", str(tmp_path / "missing.json")]) == 2
    assert main(["class", "export", "NOSUCH", "--db", str(db), "--out", str(out)]) == 2


def test_a_teams_move_is_announced_to_its_own_seats_and_the_console_only(reg):
    game, key = reg.create("baseline", seed=1, countries=["ind", "usa"])
    ind, usa = game.join("Asha", "ind"), game.join("Ben", "usa")
    game.start(key)
    calls = {"ind": 0, "usa": 0, "all": 0}
    events = {k: threading.Event() for k in calls}

    def listener(name):
        def call():
            calls[name] += 1
            events[name].set()
        return call

    game.add_listener("ind-page", listener("ind"), "ind")
    game.add_listener("usa-page", listener("usa"), "usa")
    game.add_listener("projector", listener("all"))
    game.submit(ind.code, "hold")
    assert events["ind"].wait(2) and events["all"].wait(2)
    time.sleep(0.3)
    assert calls["usa"] == 0
    game.advance(key)  # a resolved round concerns everybody
    assert events["usa"].wait(2)


def test_a_deal_between_players_is_enforced_and_shown_in_the_debrief(reg):
    from geogame.viz.class_app import debrief_tables
    game, key = reg.create("baseline", seed=2, countries=["usa", "ind"])
    us, india = game.join("Uma", "usa"), game.join("Ian", "ind")
    game.start(key)
    game.submit(us.code, "offer_deal")
    game.send_message(us.code, "15% if you stay under 10%")
    game.advance(key)
    assert game.shared_view()["instruments"]["usa.deal_offer"] == 1.0
    assert "accept_us_deal" in [m for m, _ in game.seat_view(india.code)["menu"]]
    game.submit(india.code, "accept_us_deal")
    game.advance(key)
    game.submit(india.code, "hold")
    game.advance(key)
    last = game.shared_view()["metrics"].iloc[-1]
    assert abs(last["tariff_usa_on_ind"] - 0.15) < 1e-9  # the deal's tariff, enforced by the model
    end, moves, log = debrief_tables(game, game.shared_view())
    assert list(end["measure"])[1] == "US tariff on Indian goods" and "15.0%" == end.iloc[1]["class"]
    assert len(moves) == 3 * 4
    rows = set(zip(log["round"], log["from"], log["what"]))
    assert (1, "Uma (United States)", "offers India a lower tariff for a Russian-crude ceiling") in rows
    assert (1, "Uma (United States)", "message: 15% if you stay under 10%") in rows
    assert (2, "Ian (India)", "accepts the US offer: lower tariff, crude ceiling") in rows


def test_negotiated_deals_are_enforced_through_the_model_and_replay_after_a_restart(tmp_path):
    """The US offers India its own terms (tariff 20%, ceiling 5%); India accepts in the round; the
    terms are enforced (an event of the quarter, and India's formal acceptance as its move of the
    same round). The
    EU's FTA offer is rejected; Russia's discount for an arms order is accepted and enforced.
    Refusals: a term out of range, an offer by the wrong country, an answer by the wrong team."""
    path = tmp_path / "class.sqlite3"
    reg = ClassRegistry(ClassStore(path))
    game, key = reg.create("baseline", seed=5, countries=["usa", "ind", "rus", "eu"])
    s = {c: game.join(f"team {c}", c) for c in ("usa", "ind", "rus", "eu")}
    with pytest.raises(ClassError, match="not open"):
        game.offer(s["usa"].code, "us_india_deal", {"tariff": 0.2, "ceiling": 0.05})
    game.start(key)
    with pytest.raises(ClassError, match="US tariff on Indian goods = '0.55' is not allowed; allowed 0% to 50%"):
        game.offer(s["usa"].code, "us_india_deal", {"tariff": 0.55, "ceiling": 0.05})
    with pytest.raises(ClassError, match="only United States can offer"):
        game.offer(s["ind"].code, "us_india_deal", {"tariff": 0.2})
    us = game.offer(s["usa"].code, "us_india_deal", {"tariff": 0.2, "ceiling": 0.05}, note="<script>x</script>")
    fta = game.offer(s["eu"].code, "eu_india_fta")
    with pytest.raises(ClassError, match="made to India, not to you"):
        game.answer(s["rus"].code, us["id"], True)
    game.answer(s["ind"].code, us["id"], True)
    game.answer(s["ind"].code, fta["id"], False)
    # India's move this round is fixed: it formally accepts the offer the deal puts on the table
    assert game.fixed_moves()["ind"][0] == "accept_us_deal"
    with pytest.raises(ClassError, match="fixed by the deal"):
        game.submit(s["ind"].code, "hold")
    with pytest.raises(ClassError, match="India's move this round is already fixed by another deal"):
        game.offer(s["rus"].code, "rus_discount_arms", {"discount": 3})
    game.advance(key)
    ins = game.shared_view()["instruments"]
    assert ins["usa.deal_tariff_on_ind"] == 0.2 and ins["usa.deal_crude_ceiling"] == 0.05
    assert game.rounds[-1]["plays"]["ind"]["move"] == "accept_us_deal"   # in the same round
    last = game.model.metrics_frame().iloc[-1]
    assert abs(last["tariff_usa_on_ind"] - 0.2) < 1e-9   # the negotiated tariff, in force at once
    # round 2: Russia's discount for an arms order, accepted and enforced
    before = game.model.instruments()["rus.extra_discount_ind_usd"]
    rus = game.offer(s["rus"].code, "rus_discount_arms", {"discount": 3})
    game.answer(s["ind"].code, rus["id"], True)
    game.advance(key)
    assert game.model.instruments()["rus.extra_discount_ind_usd"] == before + 3
    assert game.rounds[-1]["plays"]["ind"]["move"] == "arms_tilt_russia"
    statuses = [o["status"] for o in game.offers_log()]
    assert statuses == ["enforced", "rejected", "enforced"]
    assert "US tariff on Indian goods 20%" in game.offers_log()[0]["what"]
    live = game.model.metrics_frame()
    # a restart replays the game with the deals' events; the export replays it exactly
    code = game.code
    reg.close()
    reg.store.close()
    again = ClassRegistry(ClassStore(path)).get(code)
    pd.testing.assert_frame_equal(again.model.metrics_frame(), live)
    file = tmp_path / "game.json"
    file.write_text(again.export_json())
    data = json.loads(file.read_text())
    assert data["rounds"][0]["events"]["usa.deal_tariff_on_ind"] == 0.2
    assert data["offers"][0]["note"] == "<script>x</script>"  # kept as typed; escaped wherever shown
    pd.testing.assert_frame_equal(replay_file(file).metrics_frame(), live)
    assert set(data["scores"]) == {"usa", "ind", "rus", "eu"}


def test_a_team_that_plays_the_ais_moves_scores_the_same_as_the_ai(reg):
    """Scores compare a team with the AI in its seat from the same start and the same draws: a
    team that plays exactly what the AI would have played scores "same" on every objective; a
    different move shows as better or worse."""
    from geogame.viz.deals import OBJECTIVES
    game, key = reg.create("baseline", seed=11, countries=["ind", "usa"])
    ind, usa = game.join("Asha", "ind"), game.join("Ben", "usa")
    game.start(key)
    for r in range(3):
        game.submit(usa.code, "raise_tariff_on_ind" if r == 0 else "hold")
        # what the AI would choose for India now: replay the class's rounds with India on "ai"
        rounds = [{"round": x["round"], "quarter": x["quarter"], "events": {},
                   "plays": {c: ({"rule": "ai", "move": None} if c == "ind" else {"rule": p["rule"], "move": p["move"]})
                             for c, p in x["plays"].items()}} for x in game.rounds]
        cf = play_path(game.scenario_toml, 11, rounds + [{"round": r + 1, "quarter": "", "events": {}, "plays": {
            "ind": {"rule": "ai", "move": None}, "usa": {"rule": "human", "move": game.pending["usa"][0]},
            "rus": {"rule": "ai", "move": None}, "eu": {"rule": "ai", "move": None}}}])
        ai_move = cf.decisions_frame().iloc[-4:].set_index("country").loc["ind", "move"]
        game.submit(ind.code, ai_move)
        game.advance(key)
    better, worse, table = game.scores()["ind"]
    assert (better, worse) == (0, 0) and set(table["verdict"]) == {"same"}
    assert list(table["objective"]) == [o.words for o in OBJECTIVES["ind"]]
    b_us, w_us, _ = game.scores()["usa"]
    assert b_us + w_us > 0   # the US raised its tariff where the AI would not have
    # the same in the model's own units: India's team played the AI's moves, so it gained nothing
    gains = game.utility_scores()
    assert abs(gains["ind"][0]) < 1e-9 and abs(gains["usa"][0]) > 0.05
    from geogame.viz.class_app import scores_html
    shown = scores_html(game)
    assert "The team playing India: its moves were worth the same as the AI&#x27;s in its seat" in shown
    assert shown.count("geo-class-score-usd") == 2 and "geo-class-score-terms" in shown
    exported = json.loads(game.export_json())["scores"]
    assert exported["usa"]["utility_gain_usd_bn"] == pytest.approx(gains["usa"][0])


def _html_of(rc, cls: str) -> str:
    """The HTML of the page's solara.HTML widgets with class ``cls``, joined."""
    import solara
    return " ".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets
                    if cls in (w.attributes or {}).get("class", "").split())


def test_a_seat_page_shows_a_resolved_round_s_quarter_moves_and_charts_in_its_first_pass(reg):
    """The seat header's listener (told before the rest of every page) also sets the revealed moves
    and the charts, so they arrive with the new quarter: with the rest of the page never told, the
    page still shows all three after a round resolves; a move by another team leaves them as
    they were."""
    import solara
    from geogame.viz.class_app import SeatScreen
    game, key = reg.create("baseline", seed=1, countries=["ind", "usa"])
    ind, usa = game.join("Asha", "ind"), game.join("Ben", "usa")
    game.start(key)
    box, rc = solara.render(SeatScreen(game, ind.code, lambda: None), handle_error=False)
    try:
        with game.lock:   # the rest of the page is never told: only the first pass runs
            for token, (callback, country, first) in list(game._listeners.items()):
                if not first:
                    game._listeners[token] = (lambda: None, country, first)
        before = game.shared_view()["next_quarter"]
        assert before not in _html_of(rc, "geo-class-world")
        game.submit(ind.code, "hold")
        game.advance(key)
        deadline = time.time() + 10
        while before not in _html_of(rc, "geo-class-world") and time.time() < deadline:
            time.sleep(0.05)
        assert f"as of {before}" in _html_of(rc, "geo-class-world")
        assert before in _html_of(rc, "geo-class-seat-head")
        headings = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets if w.tag == "h4"]
        assert f"Round 1 ({before}): every move, revealed together" in headings
        assert "Asha" in _html_of(rc, "geo-class-reveal")   # who chose India's move
        shown = _html_of(rc, "geo-class-world")
        game.submit(usa.code, "hold")   # another team's move: the charts stay as they are
        time.sleep(0.5)
        assert _html_of(rc, "geo-class-world") == shown
    finally:
        rc.close()
