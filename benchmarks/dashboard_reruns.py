"""Reruns: what a watching tab costs the server (its script runs per minute) while a training runs."""

import contextlib
import re
import time
from pathlib import Path

from benchmarks.dashboard_harness import LOGS, environment, fresh_page, load_average
from tests.browser.conftest import click_train, give_name, settle, start_app, stop_app


def reruns_per_tab(playwright_browser, models: Path, train_tabs: int = 3, minutes: float = 1.0) -> None:
    """Script runs of the server (its /metrics counter, every kind) per watching tab per minute, while one training
    runs: train_tabs students asked for the same training (one shared job, each tab watching it on Train) and one
    tab watches the class board."""
    import json
    import urllib.request

    def runs(url: str) -> dict:
        """Script runs so far by kind (/metrics' mnistlab_reruns_total)."""
        body = urllib.request.urlopen(f"{url}/metrics", timeout=60).read().decode()
        return {re.search(r'kind="([^"]+)"', line).group(1): float(line.rsplit(" ", 1)[1])
                for line in body.splitlines() if line.startswith("mnistlab_reruns_total{")}

    server, url = start_app("app.py", environment(models), LOGS / "bench-reruns.log")
    try:
        with contextlib.ExitStack() as tabs:
            pages = [tabs.enter_context(fresh_page(playwright_browser)) for _ in range(train_tabs + 1)]
            pages[0].goto(url)  # the first session after a start may see "Page not found" for a page's own URL
            pages[0].wait_for_selector("h1", timeout=60_000)
            # A CNN on full MNIST for 30 epochs: longer than the watch on any machine (5 epochs ended within the
            # minute on an idle one); the server's stop ends it.
            for number, page in enumerate(pages[:train_tabs]):
                page.goto(f"{url}/Train?arch=cnn&epochs=30&seed=505")
                page.wait_for_selector("button:has-text('Train')", timeout=60_000)
                give_name(page, f"Watcher {number}")
                click_train(page)
            pages[-1].goto(f"{url}/Board")
            pages[-1].wait_for_selector("h1", timeout=60_000)
            pages[0].wait_for_selector(".live-training .panel.loss polyline.running", timeout=120_000)
            for page in pages:
                settle(page)  # the clicks' own reruns are over
            health = json.loads(urllib.request.urlopen(f"{url}/healthz", timeout=60).read())
            before, started, load = runs(url), time.perf_counter(), load_average()
            pages[0].wait_for_timeout(minutes * 60_000)  # the measured stretch of watching
            kinds = {kind: count - before[kind] for kind, count in runs(url).items()}
            during = sum(kinds.values())
            elapsed = time.perf_counter() - started
            running = json.loads(urllib.request.urlopen(f"{url}/healthz", timeout=60).read())["running"]
            stoppable = pages[0].get_by_role("button", name="Stop", exact=True).is_enabled()
    finally:
        stop_app(server)
    tabs_watching = train_tabs + 1
    print(f"reruns per watching tab per minute while a training runs ({train_tabs} Train tabs sharing one job + 1 "
          f"board tab, {elapsed:.0f} s): {during / tabs_watching / (elapsed / 60):.2f} ({during:.0f} script runs in "
          f"all: {kinds}; running before/after: {health['running']}/{running}; target near 0; before the routes: 120 per "
          f"Train tab, 20 per board tab); load average {load}; the first tab still shows the job as active (Stop enabled): {stoppable}")
