"""Time from clicking Step to every live view updated, in headless Chromium.

    .venv/bin/python benchmarks/bench_app.py [steps]

"Updated" = the quarter label, the headline numbers, the event log and the three charts
(network, alignment, time series) all show the new quarter.
"""
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import browser_support as bs  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

ALL_UPDATED = """(q) => ['.geo-quarter', '.geo-view-log .geo-asof',
  '.geo-asof-network', '.geo-asof-alignment', '.geo-asof-series']
  .every(sel => { const el = document.querySelector(sel); return el && el.textContent.includes(q); })
  && document.querySelector('.geo-log').textContent.includes(q)"""


def main(steps: int = 12) -> None:
    """Start the app in headless chromium, press Step ``steps`` times and print each step's time.

    Parameters
    ----------
    steps : int
        Quarters to step.
    """
    with bs.solara_server("viz/app.py") as srv, sync_playwright() as p:
        browser = p.chromium.launch(**bs.launch_kwargs())
        page = browser.new_page(viewport={"width": 1500, "height": 1300})
        page.goto(srv.url)
        page.locator(".geo-quarter").wait_for(timeout=60_000)
        times = []
        for i in range(steps):
            year, qn = 2026 + i // 4, i % 4 + 1
            label = f"{year}Q{qn}"
            t0 = time.perf_counter()
            page.locator(".geo-step").click()
            page.wait_for_function(ALL_UPDATED, arg=label, polling="raf", timeout=30_000)
            times.append(1000 * (time.perf_counter() - t0))
        browser.close()
    print("step -> all views updated (ms):", " ".join(f"{t:.0f}" for t in times))
    print(f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms over {steps} steps")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
