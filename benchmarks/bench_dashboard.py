"""Benchmark what a class feels: cold start, browse latency, memory with 20 sessions, live-training overhead,
and a class of 20 browsers at once. Each figure is measured beside its floor or target in the same run.

Run: .venv/bin/python benchmarks/bench_dashboard.py [--only cold,browse,memory,live,class] [--clicks 50]
It starts its own servers on free ports with a temporary model store, and prints one line per figure.
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

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, REPO, start_app, stop_app  # noqa: E402

LOGS = REPO / "tests" / "output"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def environment(models: Path, subset: str = "full") -> dict:
    return {**os.environ, "MNISTLIB_MODELS_DIR": str(models), "MNISTLIB_SUBSET": subset}


def train_model(models: Path, subset: str = "full", epochs: int = 3) -> str:
    """A stored default model, trained headless (the pages need one)."""
    from mnistlib import models as model_specs
    from mnistlib import training

    os.environ["MNISTLIB_MODELS_DIR"] = str(models)
    trainer = training.Trainer()
    try:
        state = trainer.submit(training.TrainRequest("mnist", model_specs.ModelSpec(), epochs, subset=subset)).wait()
        return state.model_id
    finally:
        trainer.shutdown()


def rss_megabytes(pid: int, with_children: bool = False) -> float:
    """Resident memory of a process (and optionally its children) from /proc, in MB."""
    def one(process_id):
        with open(f"/proc/{process_id}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

    total = one(pid)
    if with_children:
        for child in Path(f"/proc/{pid}/task").glob("*/children"):
            for child_pid in child.read_text().split():
                total += rss_megabytes(int(child_pid), True)
    return total


## Cold start


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
        page = playwright_browser.new_page()
        page.goto(f"{url}/")
        page.wait_for_selector("button:has-text('Quick start')", timeout=60_000)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            page.goto(f"{url}/Predict")
            page.wait_for_selector('[data-testid="stPlotlyChart"] .bars path', state="attached", timeout=60_000)
            page.wait_for_selector("h3:has-text('Predicted:')")
            times.append(time.perf_counter() - started)
        print(f"Predict page with a stored model ready after opening: {statistics.median(times):.2f} s "
              f"(median of 3: {', '.join(f'{t:.2f}' for t in times)}; target ≤2 s)")
    finally:
        stop_app(server)


## Browse latency against the framework's floor


CHART_FIRST_BAR = """() => { const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
                             const trace = plot && plot._fullData ? plot._fullData[0] : null;
                             return trace && trace.y ? Number(trace.y[0]) : null; }"""


def click_latencies(page, click, expected_first_bar, clicks: int) -> list[float]:
    """Milliseconds from each click until the chart's first bar shows the expected value."""
    latencies = []
    for step in range(1, clicks + 1):
        target = expected_first_bar(step)
        started = time.perf_counter()
        click()
        page.wait_for_function(f"() => {{ const y = ({CHART_FIRST_BAR})(); return y !== null && "
                               f"Math.abs(y - {target}) < 1e-6; }}", timeout=30_000)
        latencies.append(1000 * (time.perf_counter() - started))
    return latencies


def browse(playwright_browser, models: Path, model_id: str, clicks: int) -> None:
    from mnistlib import store

    env = environment(models)
    server, url = start_app("benchmarks/apps/floor.py", env, LOGS / "bench-floor.log")
    try:
        page = playwright_browser.new_page()
        page.goto(url)
        page.wait_for_selector('[data-testid="stPlotlyChart"] .bars path', state="attached", timeout=60_000)
        plus = page.locator('[data-testid="stNumberInputStepUp"]')
        floor = click_latencies(page, plus.click, lambda step: step + 1, clicks)
    finally:
        stop_app(server)
    os.environ["MNISTLIB_MODELS_DIR"] = str(models)
    probabilities = store.load_probabilities(model_id)[-1]
    server, url = start_app("app.py", env, LOGS / "bench-browse.log")
    try:
        page = playwright_browser.new_page()
        page.goto(f"{url}/Predict?model={model_id}&image=0")
        page.wait_for_selector('[data-testid="stPlotlyChart"] .bars path', state="attached", timeout=60_000)
        page.wait_for_timeout(1000)
        next_button = page.get_by_role("button", name="Next ▶")
        ours = click_latencies(page, next_button.click, lambda step: float(probabilities[step][0]), clicks)
    finally:
        stop_app(server)
    floor_p95, ours_p95 = percentile(floor, 0.95), percentile(ours, 0.95)
    print(f"browse latency over {clicks} clicks: floor (number input + Plotly bar) p50 {statistics.median(floor):.0f} ms, "
          f"p95 {floor_p95:.0f} ms; Predict 'Next' p50 {statistics.median(ours):.0f} ms, p95 {ours_p95:.0f} ms; "
          f"p95 ratio {ours_p95 / floor_p95:.2f} (target ≤1.25)")


## Memory with 1 and 20 sessions


def memory(playwright_browser, models: Path, model_id: str) -> None:
    server, url = start_app("app.py", environment(models), LOGS / "bench-memory.log")
    try:
        context = playwright_browser.new_context()
        pages = []
        for count in range(1, 21):
            page = context.new_page() if count > 1 else context.new_page()
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


## Live-training overhead: headless against a Chromium tab watching the curves


def live_training(playwright_browser, models: Path, epochs: int = 5) -> None:
    from mnistlib import models as model_specs
    from mnistlib import store, training

    os.environ["MNISTLIB_MODELS_DIR"] = str(models)
    trainer = training.Trainer()
    try:
        trainer.submit(training.TrainRequest("mnist", model_specs.ModelSpec(), 1, subset="full")).wait()  # warm
        state = trainer.submit(training.TrainRequest("mnist", model_specs.ModelSpec(), epochs, subset="full")).wait()
        headless = store.load_card(state.model_id).training_seconds
    finally:
        trainer.shutdown()
    server, url = start_app("app.py", environment(models), LOGS / "bench-live.log")
    try:
        page = playwright_browser.new_page()
        page.goto(f"{url}/Train")
        page.wait_for_selector("button:has-text('Train')", timeout=60_000)
        page.wait_for_timeout(8000)  # let the server's worker finish warming up, as on a running server
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_selector("text=Saved to the model store", timeout=300_000)
        newest = store.list_models()[0]
        watched = newest.training_seconds
    finally:
        stop_app(server)
    print(f"live-training overhead: {epochs} epochs on MNIST headless {headless:.2f} s, in the dashboard with a "
          f"Chromium tab watching {watched:.2f} s, ratio {watched / headless:.2f} (target ≤1.10)")


## A class at once


def class_at_once(playwright_browser, models: Path, model_id: str, seconds: float = 60, sessions: int = 20) -> None:
    """20 sessions browse and switch pages for a minute; then 5 trainings are requested at once."""
    from mnistlib import store

    server, url = start_app("app.py", environment(models, subset="small"), LOGS / "bench-class.log")
    timings, errors, lock = [], [], threading.Lock()
    try:
        context = playwright_browser.new_context()
        pages = [context.new_page() for _ in range(sessions)]
        for index, page in enumerate(pages):
            page.goto(f"{url}/Predict?model={model_id}&image={index}")
        for page in pages:
            page.wait_for_selector("h3:has-text('Predicted:')", timeout=120_000)
        deadline = time.monotonic() + seconds
        step = 0
        while time.monotonic() < deadline:  # round-robin: one interaction per session per round
            for index, page in enumerate(pages):
                started = time.perf_counter()
                try:
                    if (step + index) % 5 == 4:
                        page.goto(f"{url}/Mistakes?model={model_id}")
                        page.wait_for_selector("text=Most confused pairs", timeout=30_000)
                        page.goto(f"{url}/Predict?model={model_id}&image={index}")
                        page.wait_for_selector("h3:has-text('Predicted:')", timeout=30_000)
                    else:
                        before = page.get_by_role("spinbutton", name="Test image index i").input_value()
                        page.get_by_role("button", name="Next ▶").click()
                        page.wait_for_function(
                            f"() => !document.body.innerText.includes('x_test[{before}] —')", timeout=30_000)
                    if page.locator('[data-testid="stException"]').count():
                        errors.append(f"exception on session {index}")
                except Exception as error:  # noqa: BLE001 — count every failure as an error of the run
                    errors.append(f"session {index}: {type(error).__name__}")
                with lock:
                    timings.append(time.perf_counter() - started)
            step += 1
        print(f"class at once: {sessions} sessions for {seconds:.0f} s, {len(timings)} interactions, "
              f"{len(errors)} errors, p50 {1000 * statistics.median(timings):.0f} ms, "
              f"p95 {1000 * percentile(timings, 0.95):.0f} ms (target: 0 errors, p95 ≤1000 ms)")
        trainers = pages[:5]
        for page in trainers:
            page.goto(f"{url}/Train")
            page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
        os.environ["MNISTLIB_MODELS_DIR"] = str(models)
        before = {card.id for card in store.list_models()}
        for page in trainers:
            page.get_by_role("button", name="Train", exact=True).click()
        queued_seen = 0
        for page in trainers:
            if page.get_by_text("training(s) ahead of you").count():
                queued_seen += 1
        for page in trainers:
            page.wait_for_selector("text=Saved to the model store", timeout=600_000)
        new = [card for card in store.list_models() if card.id not in before]
        own = [page.url.split("job=")[1].split("&")[0] for page in trainers if "job=" in page.url]
        print(f"5 trainings requested at once: {len(new)} models stored, {len(set(own))} distinct jobs, one per "
              f"session; {queued_seen} sessions saw their queue position (target: all 5 finish, none lost)")
        context.close()
    finally:
        stop_app(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="cold,browse,memory,live,class")
    parser.add_argument("--clicks", type=int, default=50)
    arguments = parser.parse_args()
    wanted = set(arguments.only.split(","))
    from playwright.sync_api import sync_playwright

    LOGS.mkdir(parents=True, exist_ok=True)
    models = Path(tempfile.mkdtemp(prefix="mnistlib-bench-models-"))
    model_id = train_model(models) if wanted & {"browse", "memory", "cold"} else None
    small_model = train_model(models, subset="small") if "class" in wanted else None
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        if "cold" in wanted:
            cold_start(chromium, models)
        if "browse" in wanted:
            browse(chromium, models, model_id, arguments.clicks)
        if "memory" in wanted:
            memory(chromium, models, model_id)
        if "live" in wanted:
            live_training(chromium, models)
        if "class" in wanted:
            class_at_once(chromium, models, small_model)
        chromium.close()


if __name__ == "__main__":
    main()
