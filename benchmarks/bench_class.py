"""Benchmark a whole class at once: 20 browser sessions browsing images and switching pages for 60 s against
one server (errors and p95 interaction time), then 5 students requesting the same training at once (it runs
once and every student gets the model).

Run: .venv/bin/python benchmarks/bench_class.py [--sessions 20] [--seconds 60]
The 20 Chromium tabs run on the same machine as the server, so on a small machine they compete with it.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import psutil  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from benchmarks.dashboard_harness import LOGS, environment, percentile, train_model  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, click_train, give_name, start_app, stop_app  # noqa: E402


def class_at_once(playwright_browser, models: Path, model_id: str, seconds: float = 60, sessions: int = 20) -> None:
    """20 sessions browse ("Next") and switch pages (sidebar links) for a minute; then 5 trainings at once.

    One interaction = one click until its result is drawn; sessions take turns, each tab brought to the front
    first (on a student's own screen their tab is the visible one; background tabs are throttled)."""
    from mnistlib import store

    server, url = start_app("app.py", environment(models, subset="small"), LOGS / "bench-class.log")
    timings, by_kind, errors, lock = [], {}, [], threading.Lock()
    try:
        context = playwright_browser.new_context()
        pages = [context.new_page() for _ in range(sessions)]
        for index, page in enumerate(pages):
            page.goto(f"{url}/Predict?model={model_id}&image={index}")
        for page in pages:
            page.wait_for_selector("h3:has-text('Predicted:')", timeout=120_000)
        deadline = time.monotonic() + seconds
        step, on_mistakes = 0, [False] * sessions
        cpu_before = sum(psutil.Process(server.pid).cpu_times()[:2])  # the server's own CPU (user + system)
        while time.monotonic() < deadline:  # round-robin: one interaction per session per round
            for index, page in enumerate(pages):
                page.bring_to_front()  # each student's tab is the one in front on their own screen
                started = time.perf_counter()
                try:
                    kind = "to Predict" if on_mistakes[index] else "to Mistakes" if (step + index) % 5 == 4 else "Next"
                    if on_mistakes[index]:  # back through the sidebar, as a student does (same session)
                        page.locator('[data-testid="stSidebarNav"] a', has_text="Predict").click()
                        page.wait_for_selector("h3:has-text('Predicted:')", timeout=30_000)
                        on_mistakes[index] = False
                    elif (step + index) % 5 == 4:
                        page.locator('[data-testid="stSidebarNav"] a', has_text="Mistakes").click()
                        page.wait_for_selector("text=Most confused pairs", timeout=30_000)
                        on_mistakes[index] = True
                    else:
                        index = page.get_by_role("spinbutton", name="Test image index i")
                        before = index.input_value()
                        page.get_by_role("button", name="Next ▶").click()
                        expect(index).not_to_have_value(before, timeout=30_000)  # the in-page browser redrew
                    if page.locator('[data-testid="stException"]').count():
                        errors.append(f"exception on session {index}")
                except Exception as error:  # noqa: BLE001 — count every failure as an error of the run
                    errors.append(f"session {index}: {type(error).__name__}")
                with lock:
                    timings.append(time.perf_counter() - started)
                    by_kind.setdefault(kind, []).append(timings[-1])
            step += 1
        server_cpu = sum(psutil.Process(server.pid).cpu_times()[:2]) - cpu_before
        print(f"class at once: {sessions} sessions for {seconds:.0f} s, {len(timings)} interactions, "
              f"{len(errors)} errors, p50 {1000 * statistics.median(timings):.0f} ms, "
              f"p95 {1000 * percentile(timings, 0.95):.0f} ms (target: 0 errors, p95 ≤1000 ms), server CPU "
              f"{1000 * server_cpu / len(timings):.0f} ms per interaction; "
              + "; ".join(f"{kind}: {len(values)}, p50 {1000 * statistics.median(values):.0f} ms, "
                          f"p95 {1000 * percentile(values, 0.95):.0f} ms" for kind, values in by_kind.items()))
        # Five students (each in their own browser, with their own name) click Train on the default settings at
        # once: identical requests, so one training runs and all five get its model.
        contexts = [playwright_browser.new_context() for _ in range(5)]
        trainers = [context.new_page() for context in contexts]
        for number, page in enumerate(trainers):
            page.goto(f"{url}/Train")
            give_name(page, f"Student {number + 1}")
            page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
        os.environ["MNISTLIB_MODELS_DIR"] = str(models)
        before = {card.id for card in store.list_models()}
        for page in trainers:
            click_train(page)
        for page in trainers:
            page.wait_for_selector("text=Test accuracy", timeout=600_000)
        new = [card for card in store.list_models() if card.id not in before]
        jobs = {page.url.split("job=")[1].split("&")[0] for page in trainers if "job=" in page.url}
        owners = len(store.ownership.owners_of(new[0].id)) if new else 0
        # A click that comes after the training ended opens the stored model at once (a job of its own, not trained).
        reused = sum(page.get_by_text("The class already trained exactly this").count() > 0 for page in trainers)
        print(f"5 identical trainings requested at once by 5 students: {len(jobs)} job(s), of which {reused} session(s) "
              f"opened the stored model at once; {len(new)} model(s) stored, in {owners} students' lists (target: one "
              "training, every student gets the model)")
        for extra in contexts:
            extra.close()
        context.close()
    finally:
        stop_app(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    arguments = parser.parse_args()
    from playwright.sync_api import sync_playwright

    LOGS.mkdir(parents=True, exist_ok=True)
    models = Path(tempfile.mkdtemp(prefix="mnistlib-bench-models-"))
    small_model = train_model(models, subset="small")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        class_at_once(chromium, models, small_model, arguments.seconds, arguments.sessions)
        chromium.close()


if __name__ == "__main__":
    main()
