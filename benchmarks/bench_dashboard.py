"""Benchmark what a student feels: cold start, browse latency (and what each of the page's necessities costs on
top of the framework's floor), memory with 20 sessions, live-training overhead. Each figure is measured beside
its floor or target in the same run. A class of 20 browsers at once: benchmarks/bench_class.py.

Run: .venv/bin/python benchmarks/bench_dashboard.py [--only cold,browse,floors,memory,live,quickstart,reruns]
[--clicks 50]
It starts its own servers on free ports with a temporary model store, and prints one line per figure. Each measure is
its own module (dashboard_cold_start, dashboard_browse, dashboard_memory, dashboard_live, dashboard_quick_start,
dashboard_reruns); what they share is dashboard_harness.py.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.dashboard_browse import browse, floor_features  # noqa: E402
from benchmarks.dashboard_cold_start import cold_start  # noqa: E402
from benchmarks.dashboard_harness import LOGS, train_model  # noqa: E402
from benchmarks.dashboard_live import live_training  # noqa: E402
from benchmarks.dashboard_memory import memory  # noqa: E402
from benchmarks.dashboard_quick_start import quick_start  # noqa: E402
from benchmarks.dashboard_reruns import reruns_per_tab  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="cold,browse,floors,memory,live,quickstart,reruns")
    parser.add_argument("--clicks", type=int, default=50)
    arguments = parser.parse_args()
    wanted = set(arguments.only.split(","))
    from playwright.sync_api import sync_playwright

    LOGS.mkdir(parents=True, exist_ok=True)
    models = Path(tempfile.mkdtemp(prefix="mnistlib-bench-models-"))
    model_id = train_model(models) if wanted & {"browse", "memory", "cold"} else None
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        if "cold" in wanted:
            cold_start(chromium, models)
        if "browse" in wanted:
            browse(chromium, models, model_id, arguments.clicks)
        if "floors" in wanted:
            floor_features(chromium, models, arguments.clicks)
        if "memory" in wanted:
            memory(chromium, models, model_id)
        if "live" in wanted:
            live_training(chromium, models)
        if "quickstart" in wanted:
            quick_start(chromium, models)
        if "reruns" in wanted:
            reruns_per_tab(chromium, models)
        chromium.close()


if __name__ == "__main__":
    main()
