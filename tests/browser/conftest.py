"""Browser-test fixtures: the app served on a free port with its own model store, and Debian's Chromium."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Error, expect

# Every expect() waits up to 30 s for the state it checks (Playwright's default is 5 s, too short on a busy machine;
# its actions — click, fill, wait_for — already wait 30 s by default). A state reached early returns at once.
WAIT_MS = 30_000
expect.set_options(timeout=WAIT_MS)

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the group
def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))  # in one test process: one app server, one Chromium


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(script: str, environment: dict, log_path: Path) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run script` on a free port in its own process group; wait until it is healthy."""
    port = free_port()
    log = open(log_path, "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.headless", "true",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return server, url
        except OSError:
            time.sleep(0.2)
    stop_app(server)
    raise RuntimeError(f"the app did not start; see {log_path}")


def stop_app(server: subprocess.Popen) -> None:
    """Stop the server and everything it started (training workers included)."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """(base URL, models folder) of the app, using the small subset and an empty temporary store."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    models = tmp_path_factory.mktemp("browser-models")
    environment = {**os.environ, "MNISTLIB_SUBSET": "small", "MNISTLIB_MODELS_DIR": str(models)}
    output = REPO / "tests" / "output"
    output.mkdir(exist_ok=True)
    server, url = start_app("app.py", environment, output / "browser-server.log")
    yield url, models
    stop_app(server)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh tab; at the end it must show no exception, and its screenshot goes to docs/screenshots/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "rep_call", None)
    folder = REPO / "tests" / "output" if report is None or report.failed else SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(folder / f"{request.node.name.removeprefix('test_')}.png"), full_page=True)
    assert tab.locator('[data-testid="stException"]').count() == 0, "an exception reached the page"
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def settle(tab, seconds: float = 0.4) -> None:
    """Wait until Streamlit has finished rerunning (its status widget is gone for a moment)."""
    deadline = time.monotonic() + 60
    quiet_since = None
    while time.monotonic() < deadline:
        running = tab.locator('[data-testid="stStatusWidget"]').count() > 0
        now = time.monotonic()
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= seconds:
            return
        time.sleep(0.05)



def open_page(tab, url: str, path: str = "", **query) -> None:
    """Open a page of the app (path, e.g. "Predict", and query parameters) and wait until its own script has run
    (its title is drawn, not just the app's shell) and Streamlit is quiet."""
    query_text = "&".join(f"{key}={value}" for key, value in query.items())
    tab.goto(f"{url}/{path}" + (f"?{query_text}" if query_text else ""))
    tab.wait_for_selector("h1", timeout=60_000)
    settle(tab)


def click_train(tab, seconds: float = 60) -> None:
    """Click the Train button once the page shows exactly one, enabled: a rerun can for a moment leave the button
    it drew before (disabled, before the name was saved) beside the new one."""
    button = tab.get_by_role("button", name="Train", exact=True)
    deadline = time.monotonic() + seconds
    while True:
        try:
            if button.count() == 1 and button.is_enabled():
                button.click(timeout=10_000)
                return
        except Error as error:  # another rerun drew a second one between the look and the click
            if "strict mode violation" not in str(error) or time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"no single enabled Train button within {seconds:.0f} s ({button.count()} shown)")
        tab.wait_for_timeout(100)


def give_name(tab, name: str) -> None:
    """Type a student's name in the sidebar once, as a student does before training (kept in a cookie)."""
    tab.locator('[data-testid="stSidebar"]').get_by_label("Your name", exact=True).fill(name)
    tab.get_by_role("button", name="Save my name").click()
    tab.locator('[data-testid="stSidebar"]').get_by_text(f"You: {name}").wait_for(timeout=90_000)
    settle(tab)  # the rest of the page reruns with the name (Train becomes enabled)
