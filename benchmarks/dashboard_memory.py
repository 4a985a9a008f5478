"""Memory: the server's resident memory with 1 and 20 sessions on Predict."""

import time
from pathlib import Path

from benchmarks.dashboard_harness import LOGS, environment, rss_megabytes
from tests.browser.conftest import start_app, stop_app


def memory(playwright_browser, models: Path, model_id: str) -> None:
    server, url = start_app("app.py", environment(models), LOGS / "bench-memory.log")
    try:
        context = playwright_browser.new_context()
        pages = []
        for count in range(1, 21):
            page = context.new_page()
            page.goto(f"{url}/Predict?model={model_id}&image={count}")
            page.wait_for_selector("h3:has-text('Predicted:')", timeout=60_000)
            pages.append(page)
            if count == 1:
                time.sleep(1)
                one = rss_megabytes(server.pid)
        time.sleep(2)
        twenty = rss_megabytes(server.pid)
        print(f"server RSS: {one:.0f} MB with 1 session, {twenty:.0f} MB with 20 sessions on Predict "
              f"(target ≤2048 MB); with its training worker: {rss_megabytes(server.pid, True):.0f} MB")
        context.close()
    finally:
        stop_app(server)
