"""A class of N students and the projector on one game: round resolve-to-render, memory per client.

Starts the app on a free 127.0.0.1 port (loopback only), opens the teacher's console and N student
pages as separate contexts of one headless Chromium, lets every student join (the game assigns the
countries), then plays R rounds: every student moves, the teacher resolves the round, and each page
records (in the page, with a MutationObserver) the moment it shows the new quarter. Prints the
resolve-to-render times over all pages and rounds (median, 90th percentile, max) and the server's
resident memory before and after the students connected.

    .venv/bin/python benchmarks/bench_class.py            # 30 students, 4 rounds
    .venv/bin/python benchmarks/bench_class.py 10 3       # 10 students, 3 rounds
    .venv/bin/python benchmarks/bench_class.py 30 4 --browser-nice=10   # browser at lower priority

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
  };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
  note();
}"""


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


def main(students: int = 30, rounds: int = 4, browser_nice: int = 0) -> None:
    """Run the benchmark and print its figures.

    ``browser_nice``: run the browser (the 31 simulated devices) at this lower priority (``nice``),
    as if the students' pages ran on their own devices and not on the server's two cores."""
    from playwright.sync_api import sync_playwright
    students, rounds = min(students, MAX_STUDENTS), min(rounds, MAX_ROUNDS)
    started = time.monotonic()
    db = Path(tempfile.mkdtemp(prefix="bench-class-")) / "class.sqlite3"
    with bs.solara_server("viz/app.py", host="127.0.0.1", production=True,
                          env={"GEOGAME_CLASS_DB": str(db)}) as app, sync_playwright() as p:
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
        delays, charts = [], []
        loads = [os.getloadavg()[0]]
        for r in range(1, rounds + 1):
            for page in pages:
                buttons = page.locator(".geo-class-moves button[class*='geo-class-move-']")
                buttons.first.wait_for(timeout=60_000)
                buttons.nth(r % 2).click()
            teacher.locator(".geo-class-moved", has_text="European Union").wait_for(timeout=60_000)
            time.sleep(1.0)  # let every page settle before the round resolves
            label = teacher.locator(".geo-class-quarter").inner_text().strip()
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
                stamps = [pg.evaluate(f"() => [window.__seen[{new!r}], window.__seen['charts ' + {new!r}]]")
                          for pg in pages + [teacher]]
                missing = sum(a is None or b is None for a, b in stamps)
                if missing:
                    time.sleep(0.1)
            if new is None or missing:
                raise SystemExit(f"round {r}: {missing} pages did not show the new quarter within 60 s")
            delays += [a - t0 for a, _ in stamps]
            charts += [b - t0 for _, b in stamps]
            print(f"round {r} ({new}): slowest page {max(a for a, _ in stamps) - t0:.0f} ms (its charts "
                  f"{max(b for _, b in stamps) - t0:.0f} ms); load average {os.getloadavg()[0]:.1f}", flush=True)
            if time.monotonic() - started > TIME_LIMIT_S:
                break
        browser.close()
    for what, times in (("the new quarter on screen", delays), ("the new charts on screen", charts)):
        times.sort()
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
        print(f"{students} students + projector, {len(times) // (students + 1)} rounds, resolve to {what}: "
              f"median {statistics.median(times):.0f} ms, p90 {p90:.0f} ms, max {times[-1]:.0f} ms "
              f"over {len(times)} page updates")
    print(f"machine load average (1 min) at the start: {loads[0]:.1f}")
    print(f"server memory: {before:.0f} MB with the projector, {after:.0f} MB with {students} students: "
          f"{(after - before) / students:.1f} MB per student")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    nice = next((int(a.split("=", 1)[1]) for a in sys.argv[3:] if a.startswith("--browser-nice=")), 0)
    main(*args, browser_nice=nice)
