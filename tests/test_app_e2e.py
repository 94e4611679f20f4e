"""The app in real headless Chromium (Debian's, via Playwright): see tests/browser_support.py."""
import contextlib
import os
import tempfile
from pathlib import Path

import pytest

import browser_support as bs

pytestmark = pytest.mark.browser
app = bs.server_fixture("viz/app.py")
# Screenshots go to docs/screenshots/ only when asked (GEOGAME_UPDATE_SCREENSHOTS=1), so a test run
# does not rewrite tracked files; otherwise to a scratch folder.
SHOTS = (bs.REPO_ROOT / "docs" / "screenshots"
         if os.environ.get("GEOGAME_UPDATE_SCREENSHOTS") == "1"
         else Path(tempfile.gettempdir()) / "geogame-screenshots")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(**bs.launch_kwargs())
        yield b
        b.close()


def open_page(browser, app, **kw):
    context = browser.new_context(viewport={"width": 1500, "height": 1300}, accept_downloads=True, **kw)
    page = context.new_page()
    watch = bs.PageWatch(page)
    page.goto(app.url, timeout=120_000)  # a loaded CI machine can take long over the first page
    page.locator(".geo-quarter").wait_for(timeout=60_000)
    return context, page, watch


def quarter(page):
    return page.locator(".geo-quarter").inner_text().strip()


def wait_quarter(page, label):
    page.locator(".geo-quarter", has_text=label).wait_for(timeout=15_000)
    page.locator(".geo-asof-series", has_text=label).wait_for(timeout=15_000)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_load_step_play(browser, app):
    context, page, watch = open_page(browser, app)
    assert quarter(page) == "2025Q4"
    series = page.locator(".geo-chart-series").inner_html()
    network = page.locator(".geo-chart-network").inner_html()
    page.locator(".geo-step").click()
    wait_quarter(page, "2026Q1")
    assert page.locator(".geo-chart-series").inner_html() != series
    assert page.locator(".geo-chart-network").inner_html() != network
    assert page.locator(".geo-log").inner_text().count("2026Q1") >= 4  # every country's move
    page.locator(".geo-play").click()
    page.locator(".geo-quarter", has_text="2026Q3").wait_for(timeout=20_000)
    page.locator(".geo-play").click()  # pause
    page.wait_for_timeout(1500)
    paused = quarter(page)
    page.wait_for_timeout(1500)
    assert quarter(page) == paused >= "2026Q3"
    shot(page, "live.png")
    # The trade network can be coloured by change since last quarter instead of by sector.
    page.locator(".geo-network-colour button", has_text="change").click()
    page.locator(".geo-chart-network", has_text="up 5% or more").wait_for(timeout=10_000)
    page.locator(".geo-view-network").screenshot(path=str(SHOTS / "network_change.png"))
    watch.assert_clean()
    context.close()


def test_slider_takes_effect_on_reset(browser, app):
    context, page, watch = open_page(browser, app)
    slider = page.locator(".geo-lever", has_text="US penalty tariff").locator("[role=slider]")
    slider.focus()
    slider.press("Home")
    page.locator(".geo-pending").wait_for()
    assert "oil_penalty" not in page.locator(".geo-run-desc").inner_text()
    page.locator(".geo-reset").click()
    page.locator(".geo-run-desc", has_text="usa.oil_penalty_tariff_on_ind=0").wait_for(timeout=10_000)
    page.locator(".geo-step").click()
    wait_quarter(page, "2026Q1")
    # with the penalty gone, the tariff in force is the 25% reciprocal tariff
    assert "25.0%" in page.locator(".geo-view-headlines").inner_text()
    watch.assert_clean()
    context.close()


def test_play_as_india_then_debrief(browser, app):
    context, page, watch = open_page(browser, app)
    page.locator(".v-select", has_text="Play as").click()
    page.locator(".menuable__content__active .v-list-item", has_text="India").click()
    page.locator(".geo-reset").click()
    page.locator(".geo-move-panel").wait_for(timeout=10_000)
    for move, q in (("hold", "2026Q1"), ("cap_russian_crude", "2026Q2"), ("trade_push_russia", "2026Q3")):
        page.locator(f".geo-move-{move}").click()
        wait_quarter(page, q)
    page.locator(".v-input", has_text="Show the advisor").locator("input").check(force=True)
    page.locator(".geo-advisor").wait_for()
    shot(page, "play_as_india.png")
    page.get_by_role("button", name="Debrief").click()
    page.locator(".geo-chart-debrief-mine").wait_for(timeout=20_000)
    page.locator(".geo-chart-debrief-ai").wait_for()
    moves = page.locator(".geo-debrief-moves").inner_text()
    for move in ("hold", "cap_russian_crude", "trade_push_russia"):
        assert move in moves
    assert "AI path" in page.locator(".geo-debrief-end").inner_text()
    shot(page, "debrief.png")
    watch.assert_clean()
    context.close()


def test_compare_and_downloads(browser, app, tmp_path):
    context, page, watch = open_page(browser, app)
    for q in ("2026Q1", "2026Q2"):
        page.locator(".geo-step").click()
        wait_quarter(page, q)
    page.get_by_role("button", name="Compare").click()
    page.get_by_role("button", name="Run it as B").click()
    page.locator(".geo-chart-compare").wait_for(timeout=20_000)
    table = page.locator(".geo-compare-table").inner_text()
    assert "A (2026Q2)" in table and "B (2026Q2)" in table
    shot(page, "compare.png")
    page.get_by_role("button", name="Downloads").click()
    with page.expect_download() as info:
        page.get_by_text("Download the run (quarterly").click()
    text = Path(info.value.path()).read_text()
    assert "2026Q2" in text and "# decisions" in text and "crude_share_ind_from_rus" in text
    with page.expect_download() as info:
        page.get_by_text("Download a scenario file").click()
    assert "quarters" in Path(info.value.path()).read_text()
    with page.expect_download() as info:
        page.get_by_text("Download the debrief").click()
    debrief = Path(info.value.path()).read_text()
    assert "<svg" in debrief and "AI path" in debrief
    watch.assert_clean()
    context.close()


def test_two_contexts_isolated(browser, app):
    ca, a, wa = open_page(browser, app)
    cb, b, wb = open_page(browser, app)
    a.locator(".geo-step").click()
    wait_quarter(a, "2026Q1")
    a.locator(".geo-step").click()
    wait_quarter(a, "2026Q2")
    b.wait_for_timeout(500)
    assert quarter(b) == "2025Q4"
    b.locator(".geo-step").click()
    wait_quarter(b, "2026Q1")
    assert quarter(a) == "2026Q2"
    wa.assert_clean()
    wb.assert_clean()
    ca.close()
    cb.close()


def choose_file(page, path):
    """Choose ``path`` with the page's "choose the file" picker (a Vuetify file input)."""
    page.locator(".geo-upload input[type=file]").set_input_files(str(path))


def drop_file(page, name, text=None, size=0):
    """Drop a file (``text``, or ``size`` zero bytes) on the page's drop zone. A synthetic drop event
    cannot carry the file entries solara's drop handler asks for, so this sets what that handler
    sets after reading them (the dropped File and its name and size) on the drop zone's Vue component."""
    page.evaluate("""([name, text, size]) => {
        const file = new File([text !== null ? text : new ArrayBuffer(size)], name);
        let vm = document.querySelector('.solara-file-drop').__vue__;
        while (vm && !('file_info' in vm)) vm = vm.$parent;
        vm.native_file_info = [file];
        vm.file_info = [{name: file.name, isFile: true, size: file.size}];
    }""", [name, text, size])


# The scenario files that replaced the student's page with a traceback (issue 14), a plain
# malformed one, and one over the 1 MB limit.
BAD_UPLOADS = {
    "bad.toml": "title = [unclosed",
    "list_base.toml": "base=[]\n",
    "table_base.toml": "base={a=1}\n",
    "huge_int.toml": "[settings]\nusa.base_tariff_on_ind = " + "9" * 400 + "\n",
    "nested.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n",
}


def test_bad_uploads_show_one_red_line_and_the_game_goes_on(browser, app, tmp_path):
    context, page, watch = open_page(browser, app)
    page.locator(".geo-step").click()
    wait_quarter(page, "2026Q1")
    for name, text in BAD_UPLOADS.items():
        bad = tmp_path / name
        bad.write_text(text)
        choose_file(page, bad)
        error = page.locator(".geo-error", has_text=name)
        error.wait_for(timeout=15_000)
        assert page.locator(".geo-error").count() == 1
        message = error.inner_text()
        assert "unchanged" in message and "\n" not in message.strip(), message
        if name == "bad.toml":
            assert "not valid TOML" in message
        shown = page.locator("body").inner_text()
        for leak in ("Traceback", str(bs.REPO_ROOT), "site-packages", "/tmp"):
            assert leak not in shown, (name, leak)
        assert quarter(page) == "2026Q1"
    big = tmp_path / "big.toml"  # 25 MB: ipywidgets' FileUpload sent it whole and the page lost its session
    big.write_bytes(b"# " + b"x" * 25_000_000 + b"\n")
    choose_file(page, big)
    page.locator(".geo-error", has_text="too large").wait_for(timeout=15_000)
    assert "at most 1 MB" in page.locator(".geo-error").inner_text()
    # the same through the drop zone
    drop_file(page, "dropped.toml", BAD_UPLOADS["list_base.toml"])
    page.locator(".geo-error", has_text="dropped.toml").wait_for(timeout=15_000)
    drop_file(page, "dropped_big.toml", size=25_000_000)
    page.locator(".geo-error", has_text="dropped_big.toml is too large").wait_for(timeout=15_000)
    assert quarter(page) == "2026Q1"
    page.locator(".geo-step").click()  # the game goes on
    wait_quarter(page, "2026Q2")
    shot(page, "bad_upload.png")
    watch.assert_clean()
    context.close()


def test_uploaded_value_beyond_the_slider_range_is_kept(browser, app, tmp_path):
    """A scenario's 150% tariff (the classroom slider stops at 100%) is shown and run as 150%.

    (Before the slider stretched to the value, the browser clamped it to 100% and sent that back:
    the run after Reset used 100%.)
    """
    from geogame.model import GeopoliticsModel
    context, page, watch = open_page(browser, app)
    high = tmp_path / "high_tariff.toml"
    high.write_text(GeopoliticsModel(overrides={"usa.base_tariff_on_ind": 1.5}).scenario_toml())
    choose_file(page, high)
    lever = page.locator(".geo-lever-label", has_text="reciprocal")
    lever.filter(has_text="0 to 150): 150").wait_for(timeout=15_000)
    page.wait_for_timeout(1000)  # time for a slider to send back a clamped value, if it did
    assert lever.inner_text().endswith(": 150")
    page.locator(".geo-reset").click()
    page.locator(".geo-headline", has_text="US tariff on Indian goods").filter(has_text="175.0%").wait_for(
        timeout=15_000)  # 150% base + the 25% oil penalty in force at the start
    watch.assert_clean()
    context.close()


# ------------------------------------------------------------------ other origins (viz/security.py)
def http_get(app, path="/", **headers):
    """(status, headers, body) of a GET to the test server, with the given request headers."""
    import urllib.error
    import urllib.request
    request = urllib.request.Request(f"http://127.0.0.1:{app.port}{path}", headers=headers)
    try:
        with bs._NO_PROXY.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def open_websocket(app, origin):
    """Open the app's kernel WebSocket with ``origin``; its HTTP status if the handshake is refused."""
    import uuid

    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect
    url = f"ws://127.0.0.1:{app.port}/jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"
    try:
        with connect(url, origin=origin, open_timeout=20, proxy=None):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


FOREIGN_PAGE = """<!doctype html><title>another site</title>
<div id="ws">pending</div><div id="img">pending</div>
<script>
const app = "127.0.0.1:APP_PORT";
let opened = false;
const ws = new WebSocket(`ws://${app}/jupyter/api/kernels/k${Math.random()}/channels?session_id=s`);
ws.onopen = () => { opened = true; document.getElementById("ws").textContent = "open"; ws.close(); };
ws.onclose = () => { if (!opened) document.getElementById("ws").textContent = "refused"; };
const img = new Image();
img.onload = () => { document.getElementById("img").textContent = "loaded"; };
img.onerror = () => { document.getElementById("img").textContent = "refused"; };
img.src = `http://${app}/static/sun.svg`;
</script>"""


@contextlib.contextmanager
def foreign_site(app):
    """A page on another local port (another origin) that tries the app's WebSocket and an image."""
    import http.server
    import threading
    body = FOREIGN_PAGE.replace("APP_PORT", str(app.port)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_foreign_origins_are_refused_and_the_own_page_works(browser, app):
    own = f"http://127.0.0.1:{app.port}"
    # HTTP: the page itself, then the same request from another origin or under a foreign name
    status, headers, _ = http_get(app)
    assert status == 200 and "frame-ancestors 'self'" in headers["content-security-policy"]
    cookie = headers["set-cookie"]
    assert cookie.startswith("solara-session-id=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    for foreign in ({"Origin": "http://evil.example"}, {"Origin": "http://127.0.0.1:1"}, {"Origin": "null"},
                    {"Host": f"evil.example:{app.port}"}):  # the last: DNS rebinding
        status, _, body = http_get(app, **foreign)
        assert status == 403 and body.startswith(b"Refused:"), (foreign, status)
    assert http_get(app, Origin=own)[0] == 200
    # the kernel WebSocket from a raw client
    assert open_websocket(app, "http://evil.example") == 403
    assert open_websocket(app, "http://localhost:1") == 403
    assert open_websocket(app, own) == 101
    # in Chromium: a page from another local port cannot open the app's WebSocket or load from it
    context = browser.new_context()
    foreign_page = context.new_page()
    with foreign_site(app) as url:
        foreign_page.goto(url, timeout=120_000)
        for what in ("#ws", "#img"):
            foreign_page.locator(what).filter(has_not_text="pending").wait_for(timeout=15_000)
            assert foreign_page.locator(what).inner_text() == "refused", what
    context.close()
    assert "refused websocket /jupyter/api/kernels/" in app.log_text()
    # the app's own page works, and its session cookie is not readable by scripts
    context, page, watch = open_page(browser, app)
    page.locator(".geo-step").click()
    wait_quarter(page, "2026Q1")
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["solara-session-id"]["httpOnly"] is True
    assert "solara-session-id" not in page.evaluate("document.cookie")
    watch.assert_clean()
    context.close()


#: Two colours closer than this (CIELAB Delta E 1976) under a simulated colour-vision deficiency
#: count as confusable (about 2.3 is just noticeable side by side; 10 keeps series apart at a glance).
MIN_COLOUR_DISTANCE = 10.0
COLOURS_IN_CHARTS = """() => {
  const pick = (sel, attr) => [...document.querySelectorAll(sel)].map(e => e.getAttribute(attr))
    .filter(c => c && c.startsWith('#'));
  return {countries: [...new Set([...pick('.geo-chart-network svg circle', 'fill'),
                                  ...pick('.geo-chart-alignment svg circle[r="10"]', 'fill')])],
          change: [...new Set(pick('.geo-chart-network svg rect', 'fill'))]};
}"""


def test_every_control_has_an_accessible_name_and_the_palette_is_colour_blind_safe(browser, app):
    """Every slider, button, switch and box of the solo page (and the class lobby, the teaching
    pages and a printable brief) has an accessible name; the page says its language; the
    countries' colours and the network's change colours stay apart under simulated protanopia,
    deuteranopia and tritanopia (screenshots of both network colourings)."""
    context, page, watch = open_page(browser, app)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert bs.unnamed_controls(page) == []
    sliders = page.locator("[role=slider]")
    assert sliders.count() >= 10
    assert "US penalty tariff" in " ".join(sliders.nth(i).get_attribute("aria-label") or "" for i in range(sliders.count()))
    found = page.evaluate(COLOURS_IN_CHARTS)
    assert len(found["countries"]) >= 4, found
    for vision, distance, a, b in bs.closest_colours(found["countries"]):
        assert distance >= MIN_COLOUR_DISTANCE, f"country colours {a} and {b} look alike with {vision}: {distance:.1f}"
    page.locator(".geo-view-network").screenshot(path=str(SHOTS.mkdir(parents=True, exist_ok=True) or
                                                          SHOTS / "palette_sector.png"))
    page.get_by_role("button", name="change", exact=True).click()
    page.wait_for_timeout(500)
    change = page.evaluate(COLOURS_IN_CHARTS)["change"]
    assert len(change) >= 3, change
    for vision, distance, a, b in bs.closest_colours(change):
        assert distance >= MIN_COLOUR_DISTANCE, f"change colours {a} and {b} look alike with {vision}: {distance:.1f}"
    page.locator(".geo-view-network").screenshot(path=str(SHOTS / "palette_change.png"))
    for path in ("class", "teaching", "brief?country=rus"):
        page.goto(app.url + path, timeout=120_000)
        page.locator("button, a").first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        assert bs.unnamed_controls(page) == [], path
    assert "Role brief: Russia" in page.locator(".geo-brief").inner_text()
    watch.assert_clean()
    context.close()
