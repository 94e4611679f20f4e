"""The class game in real headless Chromium: a teacher and four students in separate browser
contexts play four rounds with deals (the US offer India accepts, Russia's discount for an arms
order India accepts, the EU's FTA India rejects); reload, rejoin on another device, a server
restart, refusals (moving for another country, changing a move a deal fixed, opening the console
without the key), two games side by side."""
import json
from pathlib import Path

import pytest

import browser_support as bs

pytestmark = pytest.mark.browser
WAIT = 90_000   # ms: generous, a loaded CI machine once took over 30 s for a page to update


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(**bs.launch_kwargs())
        yield b
        b.close()


def server(db, port=None):
    return bs.SolaraServer("viz/app.py", port=port, env={"GEOGAME_CLASS_DB": str(db)})


def open_class(browser, url, width=1280, height=900, path="class"):
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    watch = bs.PageWatch(page)
    page.goto(url + path, timeout=120_000)  # a loaded CI machine can take long over the first page
    return context, page, watch


def host(browser, url, scenario=None):
    context, page, watch = open_class(browser, url)
    page.locator(".geo-class-host-button").wait_for(timeout=60_000)
    if scenario:
        page.locator(".geo-class-scenario").click()
        page.locator(".menuable__content__active .v-list-item", has_text=scenario).click()
    page.locator(".geo-class-host-button").click()
    page.locator(".geo-class-code").wait_for(timeout=WAIT)
    return context, page, watch, page.locator(".geo-class-code").inner_text().strip(), \
        page.locator(".geo-class-key").inner_text().strip()


def join(browser, url, code, name, country=None, width=1280):
    context, page, watch = open_class(browser, url, width=width, path=f"class?code={code}")
    page.locator(".geo-class-join-button").wait_for(timeout=60_000)
    page.locator(".geo-class-name-input input").fill(name)
    if country:
        page.locator(".geo-class-country-input").click()
        page.locator(".menuable__content__active .v-list-item", has_text=country).click()
    page.locator(".geo-class-join-button").click()
    page.locator(".geo-class-country").wait_for(timeout=WAIT)
    return context, page, watch


def seat_code(page):
    text = page.locator(".geo-class-seatinfo").inner_text()
    return text.split("another device): ")[1].split(" ")[0]


def wait_quarter(pages, label):
    for page in pages:
        page.locator(".geo-class-seat-quarter, .geo-class-quarter", has_text=label).first.wait_for(timeout=WAIT)


MIN_CHART_TEXT_PX = """() => {
  let least = 1e9;
  for (const svg of document.querySelectorAll('.geo-chart-class-series svg, .geo-chart-class-alignment svg')) {
    const k = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll('text')) {
      const size = parseFloat(t.getAttribute('font-size'));
      if (size) least = Math.min(least, size * k);
    }
  }
  return least;
}"""


def move_buttons(page):
    return page.locator(".geo-class-moves button[class*='geo-class-move-']")


def test_a_class_plays_rounds_reloads_rejoins_and_survives_a_restart(browser, tmp_path):
    db = tmp_path / "class.sqlite3"
    app = server(db).start()
    try:
        tc, teacher, tw, code, key = host(browser, app.url)
        assert len(code) == 6 and len(key) >= 20
        assert f"class?code={code}" in teacher.locator(".geo-class-url").inner_text()
        assert teacher.locator(".geo-class-qr svg").count() == 1
        assert teacher.evaluate("document.documentElement.lang") == "en"
        # four students on their own devices (one a phone); one picks India, the others are assigned
        students = [join(browser, app.url, code, "Asha", "India", width=390)]
        students += [join(browser, app.url, code, name) for name in ("Ben", "<b>Cy</b>", "Dee")]
        pages = [p for _, p, _ in students]
        countries = [p.locator(".geo-class-country").inner_text() for p in pages]
        assert countries[0] == "You play India"
        assert "autonomy" in pages[0].locator(".geo-class-objectives").inner_text()  # objectives in words
        assert sorted(countries) == sorted(f"You play {n}" for n in ("India", "United States", "Russia",
                                                                      "European Union"))
        teacher.locator(".geo-class-teams", has_text="Dee").wait_for(timeout=WAIT)
        assert "<b>Cy</b>" in teacher.locator(".geo-class-teams").inner_text()  # escaped, shown as typed
        assert teacher.locator(".geo-class-teams b").count() == 0
        # the India seat shows only India's moves: a US move is not there to press
        india = pages[0]
        # round 1: everybody moves, the teacher resolves, every screen updates without a reload
        teacher.locator(".geo-class-start").click()
        chosen = []
        us = countries.index("You play United States")
        for i, page in enumerate(pages):
            move_buttons(page).first.wait_for(timeout=WAIT)
            # the US offers India the deal (tariff for a crude ceiling); the others their second move
            button = page.locator(".geo-class-move-offer_deal") if i == us else move_buttons(page).nth(1)
            chosen.append(button.inner_text().strip())
            button.click()
            page.locator(".geo-class-chosen").wait_for(timeout=WAIT)
        assert india.locator(".geo-class-move-offer_deal").count() == 0
        teacher.locator(".geo-class-moved", has_text="European Union").wait_for(timeout=WAIT)
        assert "thinking" not in teacher.locator(".geo-class-teams").inner_text()
        teacher.locator(".geo-class-advance").click()
        wait_quarter(pages + [teacher], "2026Q1")
        # a page's header (the quarter) is told before the rest of it: wait for the new reveal too
        india.locator(".geo-class-reveal", has_text="Dee").wait_for(timeout=WAIT)
        reveal = india.locator(".geo-class-reveal").inner_text()
        for name in ("Asha", "Ben", "<b>Cy</b>", "Dee"):
            assert name in reveal
        # round 2: India accepts the US offer, one more team moves, the others are held when the
        # 5-second clock runs out (the round resolves by itself); then the teacher pauses
        india.locator(".geo-class-deal", has_text="offers India a total US tariff of 15%").wait_for(timeout=WAIT)
        india.locator(".geo-class-move-accept_us_deal").click()
        india.locator(".geo-class-chosen").wait_for(timeout=WAIT)
        move_buttons(pages[1]).first.click()
        pages[1].locator(".geo-class-chosen").wait_for(timeout=WAIT)
        teacher.locator(".geo-class-seconds input").fill("5")
        teacher.locator(".geo-class-set-timer").click()
        teacher.locator(".geo-class-timer", has_text="Time left").wait_for(timeout=WAIT)
        teacher.locator(".geo-class-quarter", has_text="2026Q2").wait_for(timeout=WAIT)
        teacher.locator(".geo-class-pause").click()  # before round 3's clock runs out
        teacher.locator(".geo-class-status", has_text="paused").wait_for(timeout=WAIT)
        wait_quarter(pages, "2026Q2")
        teacher.locator(".geo-class-reveal", has_text="(no move: held)").wait_for(timeout=WAIT)
        assert "(no move: held)" in teacher.locator(".geo-class-reveal").inner_text()
        india.locator(".geo-class-deal", has_text="Deal in force").wait_for(timeout=WAIT)
        # a student reloads: the same seat comes back; another device rejoins by seat code
        code_b = seat_code(pages[1])
        pages[1].reload()
        pages[1].locator(".geo-class-country", has_text=countries[1].replace("You play ", "")).wait_for(timeout=60_000)
        wait_quarter([pages[1]], "2026Q2")
        oc, other, ow = open_class(browser, app.url, path=f"class?code={code}")
        other.locator(".geo-class-seat-input input").fill(code_b.lower())
        other.locator(".geo-class-rejoin-button").click()
        other.locator(".geo-class-country", has_text=countries[1].replace("You play ", "")).wait_for(timeout=WAIT)
        oc.close()
        # refused: a student opening the console with their seat code, or a made-up key
        sc, sneaky, sw = open_class(browser, app.url, path=f"class?code={code}")
        for wrong in (code_b, key[:-1] + ("x" if key[-1] != "x" else "y")):
            sneaky.locator(".geo-class-key-input input").fill(wrong)
            sneaky.locator(".geo-class-console-button").click()
            sneaky.locator(".geo-class-error", has_text="not this game's teacher key").wait_for(timeout=WAIT)
            assert sneaky.locator(".geo-class-console").count() == 0
        sc.close()
        # the server restarts mid-game (round 3 paused, nothing resolved since 2026Q2)
        port = app.port
        app.close()
        app = server(db, port=port).start()
        for page in pages:
            page.reload()
        wait_quarter(pages, "2026Q2")
        for watch in [w for _, _, w in students] + [tw]:  # the lost connection while it was down
            watch.failed.clear()
            watch.console_errors.clear()
        teacher.reload()
        teacher.locator(".geo-class-key-input input").wait_for(timeout=60_000)
        teacher.locator(".geo-class-code-input3 input").fill(code)
        teacher.locator(".geo-class-key-input input").fill(key)
        teacher.locator(".geo-class-console-button").click()
        teacher.locator(".geo-class-console").wait_for(timeout=WAIT)
        teacher.locator(".geo-class-no-timer").click()
        teacher.locator(".geo-class-start").click()
        for page in pages:
            move_buttons(page).first.wait_for(timeout=WAIT)
            move_buttons(page).first.click()
            page.locator(".geo-class-chosen").wait_for(timeout=WAIT)
        # round 3: Russia offers India $3/bbl more discount for an arms order (terms chosen in the
        # page); India accepts; the game enforces it (India's move is fixed; the discount is set)
        russia = pages[countries.index("You play Russia")]
        russia.locator(".geo-class-term-discount").click()
        russia.locator(".menuable__content__active .v-list-item", has_text="$3/bbl").click()
        russia.locator(".geo-class-offer-note input").fill("<i>for the S-400 spares</i>")
        russia.locator(".geo-class-send-offer").click()
        offer = india.locator(".geo-class-offer-open", has_text="extra discount on Russian crude $3/bbl")
        offer.wait_for(timeout=WAIT)
        assert "<i>for the S-400 spares</i>" in offer.inner_text() and india.locator(".geo-class-offer i").count() == 0
        india.locator(".geo-class-accept").click()
        india.locator(".geo-class-fixed", has_text="tilts arms orders towards Russia").wait_for(timeout=WAIT)
        russia.locator(".geo-class-offer-accepted").wait_for(timeout=WAIT)
        # a student cannot move for another country: India's page has no Russian or US move, and
        # India's own move is now the deal's (choosing another is refused)
        assert india.locator(".geo-class-move-discount_to_india, .geo-class-move-offer_deal").count() == 0
        move_buttons(india).last.click()
        india.locator(".geo-class-error", has_text="fixed by the deal").wait_for(timeout=WAIT)
        teacher.locator(".geo-class-advance").click()
        wait_quarter(pages + [teacher], "2026Q3")
        teacher.locator(".geo-class-reveal", has_text="the deal (offer").wait_for(timeout=WAIT)  # the new round's
        reveal = teacher.locator(".geo-class-reveal").inner_text()
        assert "tilts arms orders towards Russia" in reveal and "the deal (offer" in reveal
        # round 4: the EU offers India the FTA; India rejects it; everybody moves
        eu = pages[countries.index("You play European Union")]
        eu.locator(".geo-class-offer-kind").wait_for(timeout=WAIT)
        eu.locator(".geo-class-send-offer").click()
        india.locator(".geo-class-offer-open", has_text="free-trade agreement").wait_for(timeout=WAIT)
        india.locator(".geo-class-reject").click()
        eu.locator(".geo-class-offer-rejected").wait_for(timeout=WAIT)
        for page in pages:
            move_buttons(page).first.click()
            page.locator(".geo-class-chosen").wait_for(timeout=WAIT)
        for page in (india, teacher):   # the seat view and the console: every control is named
            assert bs.unnamed_controls(page) == []
        assert india.locator(".geo-class-brief-link a").first.get_attribute("href") == "/brief?country=ind"
        teacher.locator(".geo-class-advance").click()
        wait_quarter(pages + [teacher], "2026Q4")
        # the debrief: the class beside the AI path, move by move, the offer and its acceptance
        teacher.locator(".geo-class-show-debrief input").check(force=True)
        log = teacher.locator(".geo-class-debrief-log")
        log.wait_for(timeout=WAIT)
        assert "accepts the US offer" in log.inner_text() and "offers India a lower tariff" in log.inner_text()
        assert "$3/bbl" in log.inner_text() and "accepted by Asha, enforced" in log.inner_text()
        assert "free-trade agreement" in log.inner_text() and "rejected by Asha" in log.inner_text()
        assert "<i>for the S-400 spares</i>" in log.inner_text()
        assert "AI path" in teacher.locator(".geo-class-debrief-end").inner_text()
        scores = teacher.locator(".geo-class-scores").inner_text()
        for name in ("India", "United States", "Russia", "European Union"):
            assert f"{name}: better than the AI on" in scores
        # the export replays the game exactly: three rounds, the students' moves, who made them
        with teacher.expect_download() as info:
            teacher.get_by_text("Export the game").click()
        data = json.loads(Path(info.value.path()).read_text())
        assert [r["quarter"] for r in data["rounds"]] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
        assert data["rounds"][2]["events"]["rus.extra_discount_ind_usd"] > 0
        assert [o["status"] for o in data["offers"]] == ["enforced", "rejected"]
        assert {p["by"] for p in data["rounds"][0]["plays"].values()} == {"Asha", "Ben", "<b>Cy</b>", "Dee"}
        from geogame.viz.classroom import replay_file
        replayed = replay_file(info.value.path())
        assert replayed.quarter_label == "2026Q4"
        shown = teacher.locator(".geo-view-headlines").first.inner_text()
        share = replayed.metrics_frame().iloc[-1]["crude_share_ind_from_rus"]
        assert f"{100 * share:.1f}%" in shown
        for _, _, watch in students:
            watch.assert_clean()
        tw.assert_clean()
    finally:
        app.close()


def test_two_games_side_by_side_do_not_leak(browser, tmp_path):
    with bs.solara_server("viz/app.py", env={"GEOGAME_CLASS_DB": str(tmp_path / "class.sqlite3")}) as app:
        ta, teacher_a, _, code_a, key_a = host(browser, app.url)
        tb, teacher_b, _, code_b, key_b = host(browser, app.url, scenario="us_deal")
        assert code_a != code_b and key_a != key_b
        # the projector at 1280 px wide: chart text 16 px or more
        teacher_a.set_viewport_size({"width": 1280, "height": 720})
        smallest = teacher_a.evaluate(MIN_CHART_TEXT_PX)
        assert smallest >= 16, smallest
        _, student_a, wa = join(browser, app.url, code_a, "Alpha", "India")
        _, student_b, wb = join(browser, app.url, code_b, "Bravo", "India")
        teacher_a.locator(".geo-class-start").click()
        move_buttons(student_a).nth(1).click()
        student_a.locator(".geo-class-chosen").wait_for(timeout=WAIT)
        teacher_a.locator(".geo-class-advance").click()
        wait_quarter([student_a, teacher_a], "2026Q1")
        student_b.wait_for_timeout(500)
        assert "2025Q4" in student_b.locator(".geo-class-seat-quarter").inner_text()
        assert "Alpha" not in teacher_b.locator("body").inner_text()
        assert "Bravo" not in teacher_a.locator("body").inner_text()
        assert student_b.locator(".geo-class-moves").count() == 0  # game B has not started
        # game A's key does not open game B's console
        _, other, _ = open_class(browser, app.url, path=f"class?code={code_b}")
        other.locator(".geo-class-key-input input").fill(key_a)
        other.locator(".geo-class-console-button").click()
        other.locator(".geo-class-error", has_text="not this game's teacher key").wait_for(timeout=WAIT)
        wa.assert_clean()
        wb.assert_clean()
        ta.close()
        tb.close()
