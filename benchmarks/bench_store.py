"""Benchmark a class's store and trainer: identical trainings shared, the index at 1,000 and 10,000 models, and
page switches in Chromium with 1 vs 1,000 stored models.

Run: .venv/bin/python benchmarks/bench_store.py [--only sharing,index,switch] [--models 1000,10000]
Targets (issue 11): 30 identical trainings at once end within 1.3x of one alone, 10 distinct ones all train;
listing 10,000 models' cards for the board ≤ 50 ms; a page switch with 1,000 models within 1.15x of one model.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.dashboard_harness import LOGS, environment, percentile  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app  # noqa: E402


def timed_wait(jobs) -> float:
    started = time.perf_counter()
    for job in jobs:
        job.wait()
    return time.perf_counter() - started


def sharing(subset: str) -> None:
    """One default training alone, then 30 identical ones submitted at once, then 10 distinct ones."""
    from mnistlib import models, store, training

    os.environ["MNISTLIB_MODELS_DIR"] = tempfile.mkdtemp(prefix="mnistlib-bench-share-")
    trainer = training.Trainer()
    try:
        def request(seed):
            return training.TrainRequest("mnist", models.ModelSpec(seed=seed), 5, subset=subset)

        trainer.submit(request(100)).wait()  # the worker is warm, as on a running server
        started = time.perf_counter()
        alone = trainer.submit(request(1), owner=store.Actor("s0", "S0"))
        alone.wait()
        one = time.perf_counter() - started
        started = time.perf_counter()
        jobs = [trainer.submit(request(2), owner=store.Actor(f"s{n}", f"S{n}")) for n in range(30)]
        timed_wait(jobs)
        thirty = time.perf_counter() - started
        stored = {job.snapshot().model_id for job in jobs}
        owners = len(store.ownership.owners_of(next(iter(stored))))
        print(f"sharing: one training alone {one:.2f} s; 30 identical at once all ended after {thirty:.2f} s = "
              f"{thirty / one:.2f}x (target ≤1.3x); {len(stored)} model stored, in {owners} students' lists")
        started = time.perf_counter()
        distinct = [trainer.submit(request(10 + n), owner=store.Actor(f"d{n}", f"D{n}")) for n in range(10)]
        timed_wait(distinct)
        states = [job.snapshot() for job in distinct]
        print(f"sharing: 10 distinct trainings: {sum(s.status == 'finished' for s in states)} finished, "
              f"{len({s.model_id for s in states})} distinct models, {time.perf_counter() - started:.1f} s "
              "(target: all train)")
    finally:
        trainer.shutdown()


def fill_store(folder: Path, count: int) -> None:
    """count stored models (a tiny real .keras file each; cards like real ones, 5 epochs, 40 students)."""
    import keras
    import numpy as np

    from mnistlib import models, store

    os.environ["MNISTLIB_MODELS_DIR"] = str(folder)
    tiny = keras.Sequential([keras.layers.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    path = folder / "tiny.keras"
    folder.mkdir(parents=True, exist_ok=True)
    tiny.save(path)
    model_bytes = path.read_bytes()
    path.unlink()
    probabilities = np.full((5, 200, 10), 0.1, np.float16)
    for number in range(count):
        spec = models.ModelSpec(hidden_units=[32, 64, 128, 256][number % 4], seed=number)
        history = [{"epoch": epoch, "loss": 1 / epoch, "accuracy": 0.9, "val_loss": 0.3, "val_accuracy": 0.9}
                   for epoch in range(1, 6)]
        student = store.Actor(f"s{number % 40}", f"Student {number % 40}")
        store.save(model_bytes, {"name": f"net {number}", "dataset": "mnist", "subset": "small",
                                 "spec": spec.to_dict(), "epochs_run": 5, "epochs_requested": 5, "history": history,
                                 "test_loss": 0.3, "test_accuracy": 0.9, "training_seconds": 3.0, "test_size": 200,
                                 "request_key": f"key{number}", "parameters": models.count_parameters(spec)},
                   probabilities, owners=[student])


def index_timings(counts) -> None:
    from mnistlib import store
    from mnistlib.store import index

    for count in counts:
        folder = Path(tempfile.mkdtemp(prefix=f"mnistlib-bench-store-{count}-"))
        started = time.perf_counter()
        fill_store(folder, count)
        filled = time.perf_counter() - started
        listing, mine = [], []
        for _ in range(20):
            started = time.perf_counter()
            everything = store.entries(viewer="s1")
            listing.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.entries("mnist", viewer="s1", scope="mine")
            mine.append(time.perf_counter() - started)
        started = time.perf_counter()
        rebuilt = index.rebuild()
        rebuild = time.perf_counter() - started
        print(f"index, {count:,} models: listing all {len(everything):,} for the board median "
              f"{1000 * statistics.median(listing):.1f} ms, p95 {1000 * percentile(listing, 0.95):.1f} ms "
              f"(target ≤50 ms at 10,000); one student's {1000 * statistics.median(mine):.1f} ms; "
              f"rebuilt from the folders in {rebuild:.1f} s ({rebuilt:,} models); filling took {filled:.0f} s")


def page_switches(playwright_browser, folder: Path, model_id: str, switches: int) -> list[float]:
    """Seconds per page switch (sidebar link → the new page drawn and quiet), Predict ⇄ Mistakes."""
    server, url = start_app("app.py", environment(folder, subset="small"), LOGS / "bench-store-switch.log")
    try:
        context = playwright_browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/Predict?model={model_id}")
        page.wait_for_selector("text=15 test images at a glance", timeout=120_000)
        timings = []
        for number in range(switches):
            target, marker = ("Mistakes", "text=Most confused pairs") if number % 2 == 0 else \
                ("Predict", "text=15 test images at a glance")
            started = time.perf_counter()
            page.locator('[data-testid="stSidebarNav"] a', has_text=target).click()
            page.wait_for_selector(marker, timeout=60_000)
            page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                   polling=20, timeout=60_000)
            timings.append(time.perf_counter() - started)
        context.close()
        return timings
    finally:
        stop_app(server)


def switch_ratio(counts, switches: int) -> None:
    from playwright.sync_api import sync_playwright

    from benchmarks.dashboard_harness import train_model
    from mnistlib import store

    results = {}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for count in (1, *counts):
            folder = Path(tempfile.mkdtemp(prefix=f"mnistlib-bench-switch-{count}-"))
            if count > 1:
                fill_store(folder, count - 1)
            model_id = train_model(folder, subset="small")
            store.ownership.add_owner(model_id, store.Actor("s1", "Student 1"))
            results[count] = page_switches(chromium, folder, model_id, switches)
        chromium.close()
    base = statistics.median(results[1])
    for count, timings in results.items():
        print(f"page switch with {count:,} stored model(s): median {1000 * statistics.median(timings):.0f} ms, "
              f"p95 {1000 * percentile(timings, 0.95):.0f} ms; {statistics.median(timings) / base:.2f}x one model "
              "(target ≤1.15x at 1,000)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="sharing,index,switch")
    parser.add_argument("--models", default="1000,10000")
    parser.add_argument("--subset", default="full", help="data for the sharing benchmark")
    parser.add_argument("--switches", type=int, default=30)
    arguments = parser.parse_args()
    LOGS.mkdir(parents=True, exist_ok=True)
    counts = [int(count) for count in arguments.models.split(",")]
    only = arguments.only.split(",")
    if "sharing" in only:
        sharing(arguments.subset)
    if "index" in only:
        index_timings(counts)
    if "switch" in only:
        switch_ratio([count for count in counts if count <= 1000], arguments.switches)


if __name__ == "__main__":
    main()
