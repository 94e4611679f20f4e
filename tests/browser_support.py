"""Helpers for end-to-end tests of the Solara app in Debian's headless chromium.

Not a conftest: import it from a test module or from ``tests/conftest.py``. With pytest's default
import mode and no ``tests/__init__.py`` the ``tests`` folder is on ``sys.path``, so
``import browser_support`` works; if ``tests`` becomes a package, use
``from tests import browser_support``.

What it provides
----------------
``solara_server(app_file, ...)``
    Context manager: starts ``solara run APP`` as a subprocess on a free 127.0.0.1 port with the
    offline asset cache and telemetry off, waits until the page answers, yields a
    ``SolaraServer`` (``.url``, ``.log_text()``) and stops the whole process group afterwards.
``server_fixture(app_file, scope="module", ...)``
    The same as a pytest fixture (assign it to a module-level name).
``launch_kwargs()`` / ``CHROMIUM_ARGS`` / ``CHROMIUM_PATH``
    Keyword arguments for Playwright's ``chromium.launch`` that use ``/usr/bin/chromium``
    (``playwright install`` cannot download browsers on these machines).
``PageWatch(page)``
    Records failed requests (network errors and HTTP >= 400), console errors, uncaught page
    errors, requests to any host other than the local server and requests still unanswered;
    ``wait_idle()`` waits for those to finish, ``assert_clean()`` fails with the list.

Plain Playwright::

    import pytest
    from playwright.sync_api import sync_playwright
    import browser_support as bs

    app = bs.server_fixture("viz/app.py")          # module-scoped fixture named "app"

    @pytest.mark.browser
    def test_page_loads(app):
        with sync_playwright() as p:
            browser = p.chromium.launch(**bs.launch_kwargs())
            page = browser.new_page()
            watch = bs.PageWatch(page)
            page.goto(app.url)
            page.get_by_text("Step").first.wait_for(timeout=30_000)
            watch.wait_idle(page)
            watch.assert_clean()
            browser.close()

With pytest-playwright's ``page``/``browser`` fixtures (or pytest-ipywidgets' ``solara_test``),
put this in ``tests/conftest.py`` so they launch Debian's chromium::

    @pytest.fixture(scope="session")
    def browser_type_launch_args(browser_type_launch_args):
        import browser_support
        return {**browser_type_launch_args, **browser_support.launch_kwargs()}

Environment: ``SOLARA_ASSETS_PROXY_CACHE_DIR`` (default ``<repo>/.cache/solara-cdn``, filled by
``./dev setup``) and ``GEOGAME_CHROMIUM`` (default ``/usr/bin/chromium``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ASSET_DIR = REPO_ROOT / ".cache" / "solara-cdn"
SOLARA_HOME = REPO_ROOT / ".cache" / "solara-home"

CHROMIUM_PATH = os.environ.get("GEOGAME_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in a container
    "--disable-gpu",
    "--disable-background-networking",  # no calls home from the browser itself
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Even with the switches above, Chromium 156 still looks up accounts.google.com,
    # content-autofill.googleapis.com and update.googleapis.com at start-up (DNS only; the
    # connections then fail offline). Resolve every name except the local ones to "not found"
    # so nothing leaves the machine at all.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def launch_kwargs(headless: bool = True) -> dict:
    """Keyword arguments for ``playwright.chromium.launch`` (Debian chromium, offline-friendly)."""
    if not os.path.exists(CHROMIUM_PATH):
        raise FileNotFoundError(
            f"{CHROMIUM_PATH} not found: run ./dev setup (it runs apt-get install -y chromium)"
        )
    return {"executable_path": CHROMIUM_PATH, "args": list(CHROMIUM_ARGS), "headless": headless}


def asset_dir() -> Path:
    return Path(os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR", DEFAULT_ASSET_DIR))


def solara_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a Solara server process: offline assets, no telemetry, no call home."""
    env = dict(os.environ)
    env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(asset_dir())
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # development mode embeds a one-off "installation check" iframe from solara.dev unless the
    # check is marked as done in SOLARA_HOME
    home = Path(env.setdefault("SOLARA_HOME", str(SOLARA_HOME)))
    home.mkdir(parents=True, exist_ok=True)
    for name in (".solara_checked", ".jupyter_checked"):
        (home / name).touch()
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra:
        env.update(extra)
    return env


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(url: str) -> bool:
    try:
        with _NO_PROXY.open(url, timeout=5) as response:
            return 200 <= response.status < 400
    except (urllib.error.URLError, OSError):
        return False


class SolaraServer:
    """A ``solara run`` subprocess. Prefer the ``solara_server`` context manager."""

    def __init__(
        self,
        app_file: str | os.PathLike,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        production: bool = False,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
        extra_args: list[str] | None = None,
    ):
        self.app_file = Path(app_file)
        if not self.app_file.is_absolute():
            self.app_file = (REPO_ROOT / self.app_file).resolve()
        self.host = host
        self.port = port or free_port(host)
        self.production = production
        self.env = solara_env(env)
        self.cwd = Path(cwd) if cwd else REPO_ROOT
        self.extra_args = list(extra_args or [])
        self.proc: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(
            prefix="solara-server-", suffix=".log", delete=False
        )
        self.log_path = Path(self._log.name)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "solara", "run", str(self.app_file),
               "--host", self.host, "--port", str(self.port),
               "--no-open", "--no-check-version"]
        if self.production:
            cmd.append("--production")
        return cmd + self.extra_args

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def start(self, timeout: float = 90.0) -> SolaraServer:
        if not self.app_file.exists():
            raise FileNotFoundError(self.app_file)
        self.proc = subprocess.Popen(
            self.command(), cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"solara server exited with {self.proc.returncode}:\n{self.log_text()[-4000:]}"
                )
            if _answers(self.url):
                return self
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"solara server did not answer within {timeout}s:\n{self.log_text()[-4000:]}")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)  # the server's own process group (start_new_session)
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def close(self) -> None:
        self.stop()
        self._log.close()
        with contextlib.suppress(OSError):
            self.log_path.unlink()

    def __enter__(self) -> SolaraServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def solara_server(app_file: str | os.PathLike, *, timeout: float = 90.0, **kwargs) -> Iterator[SolaraServer]:
    """Run ``solara run app_file`` on a free 127.0.0.1 port for the duration of the block."""
    server = SolaraServer(app_file, **kwargs)
    try:
        server.start(timeout=timeout)
        yield server
    finally:
        server.close()


def server_fixture(app_file: str | os.PathLike, scope: str = "module", **kwargs):
    """A pytest fixture yielding a running ``SolaraServer`` for ``app_file``.

    ``app = server_fixture("viz/app.py")`` at module level defines a fixture named ``app``.
    The test is skipped (not failed) only if ``app_file`` does not exist yet.
    """
    import pytest

    @pytest.fixture(scope=scope)
    def _fixture():
        path = Path(app_file)
        if not path.is_absolute():
            path = REPO_ROOT / path
        if not path.exists():
            pytest.skip(f"{app_file} does not exist yet")
        with solara_server(path, **kwargs) as server:
            yield server

    return _fixture


class PageWatch:
    """Collects everything that went wrong while a Playwright page loaded and ran.

    ``failed``: requests that failed or got HTTP >= 400; ``console_errors``; ``page_errors``
    (uncaught exceptions); ``external``: requests to hosts other than 127.0.0.1/localhost
    (the app must work on networks that block the internet); ``cdn``: paths requested
    under ``/_solara/cdn/``; ``pending``: requests not answered yet. A web asset missing from
    the offline cache shows up as pending for a while (Solara's proxy retries the CDN for ~10 s
    before it answers 500), so call ``wait_idle(page)`` before ``assert_clean()``.
    """

    def __init__(self, page, allowed_hosts: set[str] | None = None):
        self.allowed_hosts = set(allowed_hosts or ()) | LOCAL_HOSTS
        self.failed: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.external: list[str] = []
        self.cdn: list[str] = []
        self.pending: dict = {}  # Request -> url, until it finishes or fails
        page.on("request", self._on_request)
        page.on("requestfinished", lambda r: self.pending.pop(r, None))
        page.on("requestfailed", self._on_failed)
        page.on("response", self._on_response)
        page.on("console", self._on_console)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def _on_request(self, request) -> None:
        self.pending[request] = request.url
        url = urllib.parse.urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss"):
            if url.hostname not in self.allowed_hosts:
                self.external.append(request.url)
            elif "/_solara/cdn/" in url.path:
                self.cdn.append(url.path.split("/_solara/cdn/", 1)[1])

    def _on_failed(self, request) -> None:
        self.pending.pop(request, None)
        self.failed.append(f"{request.url} ({request.failure})")

    def wait_idle(self, page, timeout: float = 30.0) -> None:
        """Wait (up to ``timeout`` s) until every request seen so far has finished or failed."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            page.wait_for_timeout(100)

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} @ {message.location.get('url', '')}")

    def problems(self) -> list[str]:
        return ([f"failed request: {x}" for x in self.failed]
                + [f"console error: {x}" for x in self.console_errors]
                + [f"page error: {x}" for x in self.page_errors]
                + [f"external request: {x}" for x in self.external]
                + [f"unfinished request: {x}" for x in self.pending.values()])

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "browser problems:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------------------ accessibility
#: Roles of the controls a person operates: each needs an accessible name (WCAG 2.1, 4.1.2).
CONTROL_ROLES = {"slider", "textbox", "checkbox", "switch", "button", "combobox", "spinbutton", "radio",
                 "listbox", "searchbox", "link", "menuitem"}


def unnamed_controls(page) -> list[str]:
    """The controls on ``page`` without an accessible name, as Chromium's accessibility tree
    computes it (DevTools protocol ``Accessibility.getFullAXTree``): ``role: outer HTML`` each."""
    cdp = page.context.new_cdp_session(page)
    try:
        out = []
        for node in cdp.send("Accessibility.getFullAXTree")["nodes"]:
            role = (node.get("role") or {}).get("value")
            name = str((node.get("name") or {}).get("value", "")).strip()
            if node.get("ignored") or role not in CONTROL_ROLES or name:
                continue
            html = cdp.send("DOM.getOuterHTML", {"backendNodeId": node["backendDOMNodeId"]})["outerHTML"]
            out.append(f"{role}: {html[:200]}")
        return out
    finally:
        cdp.detach()


#: Colour-vision deficiency simulation matrices of Machado, Oliveira & Fernandes (2009), "A
#: physiologically-based model for simulation of color vision deficiency", IEEE TVCG 15(6),
#: severity 1.0, applied to linear RGB.
CVD_MATRICES = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}


def _linear_rgb(colour: str):
    import numpy as np
    c = colour.strip().lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    rgb = np.array([int(c[i:i + 2], 16) for i in (0, 2, 4)]) / 255.0
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear):
    import numpy as np
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ np.clip(linear, 0.0, 1.0) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_colours(colours) -> list[tuple[str, float, str, str]]:
    """For normal vision and each simulated deficiency: the two colours of ``colours`` (hex) that
    look most alike and their CIELAB distance (Delta E 1976): ``(vision, distance, a, b)``."""
    import itertools
    import numpy as np
    colours = sorted(set(c.lower() for c in colours))
    out = []
    for vision, m in [("normal", np.eye(3))] + [(k, np.array(v)) for k, v in CVD_MATRICES.items()]:
        labs = {c: _lab(m @ _linear_rgb(c)) for c in colours}
        d, a, b = min((float(np.linalg.norm(labs[a] - labs[b])), a, b) for a, b in itertools.combinations(colours, 2))
        out.append((vision, d, a, b))
    return out
