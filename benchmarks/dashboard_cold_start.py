"""Cold start: seconds from starting a server to the first page interactive (against a hello world), and to the
Predict page ready with a stored model."""

import statistics
import time
from pathlib import Path

from benchmarks.dashboard_harness import LOGS, environment, fresh_page
from tests.browser.conftest import start_app, stop_app


def first_interactive(playwright_browser, script: str, env: dict, path: str, ready_selector: str) -> float:
    """Seconds from starting the server process to the first page showing ready_selector."""
    started = time.perf_counter()
    server, url = start_app(script, env, LOGS / f"bench-{Path(script).stem}.log")
    try:
        page = playwright_browser.new_page()
        page.goto(f"{url}/{path}")
        page.wait_for_selector(ready_selector, timeout=120_000)
        elapsed = time.perf_counter() - started
        page.close()
        return elapsed
    finally:
        stop_app(server)


def cold_start(playwright_browser, models: Path) -> None:
    env = environment(models)
    hello = [first_interactive(playwright_browser, "benchmarks/apps/hello.py", env, "", "text=Ready") for _ in range(3)]
    ours = [first_interactive(playwright_browser, "app.py", env, "", "button:has-text('Quick start')")
            for _ in range(3)]
    print(f"cold start to first page interactive: hello world {statistics.median(hello):.2f} s, MNIST Lab home "
          f"{statistics.median(ours):.2f} s (median of 3), difference {statistics.median(ours) - statistics.median(hello):+.2f} s "
          "(target ≤ +1 s)")
    server, url = start_app("app.py", env, LOGS / "bench-predict.log")
    try:
        with fresh_page(playwright_browser) as page:
            page.goto(f"{url}/")
            page.wait_for_selector("button:has-text('Quick start')", timeout=60_000)
            times = []
            for _ in range(3):
                started = time.perf_counter()
                page.goto(f"{url}/Predict")
                page.wait_for_selector("svg.chart .bars path", state="attached", timeout=60_000)
                page.wait_for_selector("h3:has-text('Predicted:')")
                times.append(time.perf_counter() - started)
            print(f"Predict page with a stored model ready after opening: {statistics.median(times):.2f} s "
                  f"(median of 3: {', '.join(f'{t:.2f}' for t in times)}; target ≤2 s)")
    finally:
        stop_app(server)
