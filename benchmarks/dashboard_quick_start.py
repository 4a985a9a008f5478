"""Quick start: a student's click on the home page until the stored model's test accuracy shows."""

import os
import re
import statistics
import time
from pathlib import Path

from benchmarks.dashboard_harness import LOGS, environment, fresh_page, load_average
from tests.browser.conftest import give_name, start_app, stop_app


def quick_start(playwright_browser, models: Path, repeats: int = 3) -> None:
    """Seconds from clicking Home's Quick start (5 epochs of the default model, full MNIST, warm server) until the
    Train page shows "Test accuracy" (the model is stored by then). The quick start always uses seed 0, so the
    model is deleted after each run: otherwise the next click would reuse it instead of training."""
    from mnistlib import store

    os.environ["MNISTLIB_MODELS_DIR"] = str(models)
    server, url = start_app("app.py", environment(models), LOGS / "bench-quickstart.log")
    clicks, trained, loads = [], [], []
    try:
        for run in range(repeats):
            with fresh_page(playwright_browser) as page:
                page.goto(url)
                button = page.get_by_role("button", name=re.compile("Quick start"))
                button.wait_for(timeout=60_000)
                give_name(page, f"Quick {run}")
                page.wait_for_timeout(8000)  # the worker warms up once after the server starts; then it is warm
                loads.append(load_average())
                started = time.perf_counter()
                button.click()
                page.wait_for_selector("text=Test accuracy", timeout=120_000)
                clicks.append(time.perf_counter() - started)
                card = store.list_models()[0]
                trained.append(card.training_seconds)
                store.delete(card.id)
    finally:
        stop_app(server)
    print(f"quick start, click → 'Test accuracy' shown (5 epochs, full MNIST, warm server), median of {repeats}: "
          f"{statistics.median(clicks):.2f} s ({', '.join(f'{t:.2f}' for t in clicks)}; target ≤2.5 s); the worker's "
          f"training_seconds (build → test figures) {', '.join(f'{t:.2f}' for t in trained)}; load average "
          f"{', '.join(loads)}")
