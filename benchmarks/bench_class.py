"""A class of N students and the projector on one game: round resolve-to-render, memory per client.

Starts the app on a free 127.0.0.1 port (loopback only), opens the teacher's console and N student
pages as separate contexts of one headless Chromium, lets every student join (the game assigns the
countries), then plays R rounds: every student moves, the teacher resolves the round, and each page
records (in the page, with a MutationObserver) the moment it shows the new quarter, the new charts,
the round's revealed moves and (students) the menu for the next quarter, the last part of a page to
update. Prints the resolve-to-render times over all pages and rounds (median, 90th percentile, max),
the server's CPU time per round and its resident memory before and after the students connected.

    .venv/bin/python benchmarks/bench_class.py            # 30 students, 4 rounds
    .venv/bin/python benchmarks/bench_class.py 10 3       # 10 students, 3 rounds
    .venv/bin/python benchmarks/bench_class.py 30 4 --browser-nice=10   # browser at lower priority
    .venv/bin/python benchmarks/bench_class.py 30 4 --trace   # and where the time goes

``--trace`` also records, in every page, when each WebSocket message arrived and how big it was,
and has the server log each page it re-renders (``GEOGAME_CLASS_TRACE``), and prints per round:
the server's time to re-render all pages (first pass, rest), the messages and bytes a page received, and how long
after the charts arrived the browser showed them.

Bounded: at most 40 students and 10 rounds, and the whole run stops after 15 minutes. The browser
shares the machine's two cores with the server, so the times include the browser's own rendering
of 31 pages.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import browser_support as bs  # noqa: E402

MAX_STUDENTS, MAX_ROUNDS, TIME_LIMIT_S = 40, 10, 900
OBSERVER = """() => {
  window.__seen = {};
  const note = () => {
    for (const el of document.querySelectorAll('.geo-class-seat-quarter, .geo-class-quarter')) {
      const t = el.textContent.trim();
      if (!(t in window.__seen)) window.__seen[t] = Date.now();
    }
    for (const el of document.querySelectorAll('.geo-asof-class-series')) {
      const t = 'charts ' + el.textContent.trim().split(' ').pop();
      if (!(t in window.__seen)) window.__seen[t] = Date.now();
    }
    for (const el of document.querySelectorAll('.geo-class-moves')) {
      const m = el.textContent.match(/ for (\\d{4}Q\\d)/);
      if (m && !(('menu ' + m[1]) in window.__seen)) window.__seen['menu ' + m[1]] = Date.now();
    }
    for (const el of document.querySelectorAll('h4')) {
      const m = el.textContent.match(/^Round \\d+ \\((\\S+)\\): every move/);
      if (m && !(('reveal ' + m[1]) in window.__seen)) window.__seen['reveal ' + m[1]] = Date.now();
    }
  };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
  note();
}"""

#: In-page recorder of WebSocket messages (``--trace``): arrival time (ms), size, and whether it
#: holds the time-series chart (installed before the page's own scripts run).
FRAMES = """(() => {
  window.__frames = [];
  const Native = window.WebSocket;
  const Recording = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (ev) => {
      const d = ev.data;
      let text = '';
      if (typeof d === 'string') text = d;
      else if (d instanceof ArrayBuffer) text = new TextDecoder().decode(d);
      window.__frames.push([Date.now(), typeof d === 'string' ? d.length : (d.byteLength || d.size || 0),
                            text.includes('geo-asof-class-series')]);
    });
    return ws;
  };
  Recording.prototype = Native.prototype;
  Object.assign(Recording, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Recording;
})()"""


def pct(values, q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank, as for the headline figures)."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def trace_round(trace: Path, pages, t0_ms: float, new: str) -> None:
    """Print where one round's time went: the server re-rendering pages (from the trace file),
    the messages reaching the pages, and the browser showing the charts after they arrived."""
    import json
    lines = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    t0 = t0_ms / 1000
    change = next((x for x in lines if x["what"] == "change" and x["t"] >= t0), None)
    told = [x for x in lines if x["what"] == "told" and x["started"] >= t0]
    if change is not None:
        first = [x for x in told if x["first"]]
        rest = [x for x in told if not x["first"]]
        print(f"  server: resolved {1000 * (change['t'] - t0):.0f} ms after the click; "
              f"{len(first)} first passes (quarter, moves, charts) in {sum(x['seconds'] for x in first) * 1000:.0f} ms "
              f"(median {1000 * statistics.median([x['seconds'] for x in first] or [0]):.0f} ms each), "
              f"{len(rest)} passes over the rest of a page in {sum(x['seconds'] for x in rest) * 1000:.0f} ms (median "
              f"{1000 * statistics.median([x['seconds'] for x in rest] or [0]):.0f} ms, max "
              f"{1000 * max([x['seconds'] for x in rest] or [0]):.0f} ms); last page done "
              f"{1000 * (max([x['t'] for x in told] or [t0]) - t0):.0f} ms after the click; "
              f"{len({x['page'] for x in rest})} distinct pages; CPU of the notifier threads in them "
              f"{1000 * sum(x.get('cpu', 0) for x in told):.0f} ms", flush=True)
    arrive, shown, counts, sizes = [], [], [], []
    for page in pages:
        frames, seen = page.evaluate(f"() => [window.__frames, window.__seen['charts ' + {new!r}]]")
        frames = [f for f in frames if f[0] >= t0_ms]
        counts.append(len(frames))
        sizes.append(sum(f[1] for f in frames))
        chart = next((f[0] for f in frames if f[2]), None)
        if chart is not None and seen is not None:
            arrive.append(chart - t0_ms)
            shown.append(seen - chart)
        page.evaluate("() => { window.__frames = []; }")
    print(f"  pages: {statistics.median(counts):.0f} messages and {statistics.median(sizes) / 1000:.1f} kB "
          f"a page (max {max(counts)}, {max(sizes) / 1000:.1f} kB); the charts arrived after median "
          f"{statistics.median(arrive or [0]):.0f} ms, p90 {pct(arrive, 0.9):.0f} ms; the browser showed them "
          f"median {statistics.median(shown or [0]):.0f} ms, p90 {pct(shown, 0.9):.0f} ms after they arrived",
          flush=True)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, s) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def next_quarter(label: str) -> str:
    """The quarter after ``label`` ("2026Q4" -> "2027Q1")."""
    year, q = int(label[:4]), int(label[-1])
    return f"{year + q // 4}Q{q % 4 + 1}"


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (MB), from /proc."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def main(students: int = 30, rounds: int = 4, browser_nice: int = 0, trace: bool = False) -> None:
    """Run the benchmark and print its figures.

    ``browser_nice``: run the browser (the 31 simulated devices) at this lower priority (``nice``),
    as if the students' pages ran on their own devices and not on the server's two cores."""
    from playwright.sync_api import sync_playwright
    students, rounds = min(students, MAX_STUDENTS), min(rounds, MAX_ROUNDS)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-class-"))
    db, trace_file = work / "class.sqlite3", work / "trace.jsonl"
    env = {"GEOGAME_CLASS_DB": str(db)}
    if trace:
        env["GEOGAME_CLASS_TRACE"] = str(trace_file)
    with bs.solara_server("viz/app.py", host="127.0.0.1", production=True,
                          env=env) as app, sync_playwright() as p:
        server_pid = app.proc.pid
        if browser_nice:
            os.nice(browser_nice)   # this process and the browser it starts; the server keeps its priority
        browser = p.chromium.launch(**bs.launch_kwargs())
        teacher = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        teacher.goto(app.url + "class")
        teacher.locator(".geo-class-host-button").click(timeout=120_000)
        teacher.locator(".geo-class-code").wait_for(timeout=60_000)
        code = teacher.locator(".geo-class-code").inner_text().strip()
        time.sleep(2)
        before = rss_mb(server_pid)
        pages = []
        for i in range(students):
            page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            if trace:
                page.add_init_script(FRAMES)
            page.goto(f"{app.url}class?code={code}")
            page.locator(".geo-class-name-input input").fill(f"student {i + 1}", timeout=120_000)
            page.locator(".geo-class-join-button").click()
            page.locator(".geo-class-country").wait_for(timeout=60_000)
            pages.append(page)
            if time.monotonic() - started > TIME_LIMIT_S:
                raise SystemExit("time limit reached while joining")
        time.sleep(2)
        after = rss_mb(server_pid)
        for page in pages + [teacher]:
            page.evaluate(OBSERVER)
        teacher.locator(".geo-class-start").click()
        delays, charts, reveals, menu_times, server_cpu = [], [], [], [], []
        loads = [os.getloadavg()[0]]
        for r in range(1, rounds + 1):
            for page in pages:
                buttons = page.locator(".geo-class-moves button[class*='geo-class-move-']")
                buttons.first.wait_for(timeout=60_000)
                buttons.nth(r % 2).click()
            teacher.locator(".geo-class-moved", has_text="European Union").wait_for(timeout=60_000)
            time.sleep(1.0)  # let every page settle before the round resolves
            label = teacher.locator(".geo-class-quarter").inner_text().strip()
            cpu0 = cpu_seconds(server_pid)
            t0 = time.time() * 1000
            teacher.locator(".geo-class-advance").click()
            deadline = time.monotonic() + 60
            new = None
            while time.monotonic() < deadline:
                seen = teacher.evaluate("() => window.__seen")
                fresh = [q for q in seen if q > label and q.startswith("20")]
                if fresh:
                    new = fresh[0]
                    break
                time.sleep(0.05)
            missing = len(pages) + 1
            while new and missing and time.monotonic() < deadline:
                stamps = [pg.evaluate(f"() => [window.__seen[{new!r}], window.__seen['charts ' + {new!r}], "
                                      f"window.__seen['reveal ' + {new!r}]]") for pg in pages + [teacher]]
                missing = sum(None in stamp for stamp in stamps)
                if missing:
                    time.sleep(0.1)
            if new is None or missing:
                raise SystemExit(f"round {r}: {missing} pages did not show the new quarter within 60 s")
            coming = next_quarter(new)
            while time.monotonic() < deadline:   # the students' menus for the next quarter
                menus = [pg.evaluate(f"() => window.__seen['menu ' + {coming!r}]") for pg in pages]
                if None not in menus:
                    break
                time.sleep(0.1)
            if None in menus:
                raise SystemExit(f"round {r}: {menus.count(None)} pages did not show the menu for {coming} within 60 s")
            menu_times += [m - t0 for m in menus]
            server_cpu.append(cpu_seconds(server_pid) - cpu0)
            delays += [a - t0 for a, _, _ in stamps]
            charts += [b - t0 for _, b, _ in stamps]
            reveals += [c - t0 for _, _, c in stamps]
            print(f"round {r} ({new}): slowest page {max(a for a, _, _ in stamps) - t0:.0f} ms (its charts "
                  f"{max(b for _, b, _ in stamps) - t0:.0f} ms, the revealed moves "
                  f"{max(c for _, _, c in stamps) - t0:.0f} ms, the menu for {coming} {max(menus) - t0:.0f} ms); "
                  f"server CPU {1000 * server_cpu[-1]:.0f} ms; load average {os.getloadavg()[0]:.1f}", flush=True)
            if trace:
                trace_round(trace_file, pages, t0, new)
            if time.monotonic() - started > TIME_LIMIT_S:
                break
        browser.close()
    for what, times in (("the new quarter on screen", delays), ("the new charts on screen", charts),
                        ("the round's moves revealed", reveals),
                        ("the next quarter's menu (students; the last part of a page)", menu_times)):
        times.sort()
        p90 = pct(times, 0.9)
        print(f"{students} students + projector, {len(charts) // (students + 1)} rounds, resolve to {what}: "
              f"median {statistics.median(times):.0f} ms, p90 {p90:.0f} ms, max {times[-1]:.0f} ms "
              f"over {len(times)} page updates")
    print(f"machine load average (1 min) at the start: {loads[0]:.1f}")
    print(f"server memory: {before:.0f} MB with the projector, {after:.0f} MB with {students} students: "
          f"{(after - before) / students:.1f} MB per student")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    nice = next((int(a.split("=", 1)[1]) for a in sys.argv[3:] if a.startswith("--browser-nice=")), 0)
    main(*args, browser_nice=nice, trace="--trace" in sys.argv[3:])
