"""Benchmark what a student feels: cold start, browse latency (and what each of the page's necessities costs on
top of the framework's floor), memory with 20 sessions, live-training overhead. Each figure is measured beside
its floor or target in the same run. A class of 20 browsers at once: benchmarks/bench_class.py.

Run: .venv/bin/python benchmarks/bench_dashboard.py [--only cold,browse,floors,memory,live,quickstart,reruns]
[--clicks 50]
It starts its own servers on free ports with a temporary model store, and prints one line per figure.
"""

import argparse
import contextlib
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, REPO, give_name, settle, start_app, stop_app  # noqa: E402

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


@contextlib.contextmanager
def fresh_page(playwright_browser):
    """A page in its own browser context, closed afterwards: a tab left open on a stopped server keeps
    trying to reconnect and would take CPU from the next measurement."""
    context = playwright_browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


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


def floor_latencies(playwright_browser, env: dict, clicks: int, features: str = "") -> list[float]:
    """Click latencies of the floor page, with some of the Predict page's features added (see apps/floor.py)."""
    server, url = start_app("benchmarks/apps/floor.py", {**env, "FLOOR_FEATURES": features}, LOGS / "bench-floor.log")
    try:
        with fresh_page(playwright_browser) as page:
            page.goto(url)
            page.wait_for_selector('[data-testid="stPlotlyChart"] .bars path', state="attached", timeout=60_000)
            plus = page.locator('[data-testid="stNumberInputStepUp"]')
            return click_latencies(page, plus.click, lambda step: step + 1, clicks)
    finally:
        stop_app(server)


def floor_features(playwright_browser, models: Path, clicks: int) -> None:
    """What the Predict page's necessities cost on top of the floor, each measured alone and all together."""
    for features in ("", "fragment", "url", "layout", "fragment,url,layout"):
        latencies = floor_latencies(playwright_browser, environment(models), clicks, features)
        print(f"floor + {features or 'nothing'}: p50 {statistics.median(latencies):.0f} ms, "
              f"p95 {percentile(latencies, 0.95):.0f} ms")


# Clicks a button (found by a CSS selector, in the page or in a component's shadow root) and resolves, once the
# page has been quiet for quietMs, with the milliseconds from the click to the last change of what the page shows
# (a MutationObserver on the main area and every shadow root; changes to hidden elements and Streamlit's markers of
# a running rerun, data-stale and the class changes of its own containers, are not what a student sees), and the
# milliseconds until the URL's query parameter urlParameter = [name, value] (null if never; the server following).
SETTLE_AFTER_CLICK = """async ([selector, quietMs, urlParameter]) => {
  const roots = [document.querySelector('[data-testid="stMain"]') || document.body];
  for (const element of document.querySelectorAll("*")) if (element.shadowRoot) roots.push(element.shadowRoot);
  const button = roots.map((root) => root.querySelector(selector)).find(Boolean);
  const streamlitWrapper = (element) => element.hasAttribute("data-testid") ||
    [...element.classList].some((name) => name.startsWith("st-emotion-cache") || name === "stElementContainer");
  let last = null, urlAt = null;
  const started = performance.now();
  const observer = new MutationObserver((records) => {
    const now = performance.now();
    for (const record of records) {
      const element = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      if (!element || (element.checkVisibility && !element.checkVisibility())) continue;
      if (record.attributeName === "data-stale") continue;
      if (record.attributeName === "class" && streamlitWrapper(element)) continue;
      last = now;
    }
  });
  for (const root of roots) observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
  const urlWatch = setInterval(() => {
    if (urlAt === null && urlParameter &&
        new URLSearchParams(window.location.search).get(urlParameter[0]) === urlParameter[1]) urlAt = performance.now();
  }, 2);
  button.click();
  while (performance.now() - (last ?? started) < quietMs || (urlParameter && urlAt === null &&
         performance.now() - started < 10000)) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  observer.disconnect();
  clearInterval(urlWatch);
  return [last === null ? null : last - started, urlAt === null ? null : urlAt - started];
}"""


def settle_latencies(page, selector: str, clicks: int, url_parameter=None, quiet_ms: int = 600) -> tuple[list, list]:
    """For each click on selector: milliseconds until the page stops changing, and until the URL's query holds
    url_parameter(step) = (name, value) (the server followed); see SETTLE_AFTER_CLICK."""
    changed, followed = [], []
    for step in range(1, clicks + 1):
        wanted = list(url_parameter(step)) if url_parameter else None
        change, url = page.evaluate(SETTLE_AFTER_CLICK, [selector, quiet_ms, wanted])
        if change is None:
            raise RuntimeError(f"click {step} on {selector} changed nothing on the page")
        changed.append(change)
        followed.append(url)
    return changed, followed


def browse(playwright_browser, models: Path, model_id: str, clicks: int) -> None:
    """Click latency until the page stops changing: the floor (a number input's + and a Plotly bar) against
    Predict's Next, whose in-page browser redraws without waiting for the server (which follows: the URL)."""
    env = environment(models)
    server, url = start_app("benchmarks/apps/floor.py", env, LOGS / "bench-floor.log")
    try:
        with fresh_page(playwright_browser) as page:
            page.goto(url)
            page.wait_for_selector('[data-testid="stPlotlyChart"] .bars path', state="attached", timeout=60_000)
            page.wait_for_timeout(1000)
            floor, _ = settle_latencies(page, '[data-testid="stNumberInputStepUp"]', clicks)
    finally:
        stop_app(server)
    server, url = start_app("app.py", env, LOGS / "bench-browse.log")
    try:
        with fresh_page(playwright_browser) as page:
            page.goto(url)  # the first session after a start may see "Page not found" for a page's own URL
            page.wait_for_selector("h1", timeout=60_000)
        with fresh_page(playwright_browser) as page:
            page.goto(f"{url}/Predict?model={model_id}&image=0")
            page.wait_for_selector("svg.chart .bars path", state="attached", timeout=60_000)
            page.wait_for_timeout(1000)
            ours, followed = settle_latencies(page, "button.next", clicks, url_parameter=lambda step: ("image", str(step)))
    finally:
        stop_app(server)
    floor_p95, ours_p95 = percentile(floor, 0.95), percentile(ours, 0.95)
    answered = [value for value in followed if value is not None]
    following = (f"the server followed (the URL's ?image=) after p50 {statistics.median(answered):.0f} ms, p95 "
                 f"{percentile(answered, 0.95):.0f} ms ({len(answered)}/{clicks} within 10 s)" if answered
                 else "the URL never followed")
    print(f"browse latency until the page stops changing, over {clicks} clicks: floor (number input + Plotly bar) "
          f"p50 {statistics.median(floor):.0f} ms, p95 {floor_p95:.0f} ms; Predict 'Next' p50 "
          f"{statistics.median(ours):.0f} ms, p95 {ours_p95:.0f} ms; p95 ratio {ours_p95 / floor_p95:.2f} (target "
          f"≤0.5); {following}")


## Memory with 1 and 20 sessions


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


## Live-training overhead: headless against a Chromium tab watching the curves


def load_average() -> str:
    """The machine's 1-minute load average (the machine may be shared: each figure is printed with it)."""
    return Path("/proc/loadavg").read_text().split()[0]


def cpu_seconds() -> dict:
    """CPU seconds used so far by this benchmark's descendants, by role: the Chromium it drives, the Streamlit
    server, the server's training workers (from /proc; a process that has exited no longer counts)."""
    children, used = {}, {"chromium": 0.0, "server": 0.0, "workers": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append((int(stat.parent.name), fields))
    pending = [os.getpid()]
    while pending:
        for pid, fields in children.get(pending.pop(), []):
            pending.append(pid)
            with contextlib.suppress(OSError):
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                role = ("chromium" if "chromium" in command else "server" if "streamlit run" in command
                        else "workers" if "multiprocessing" in command else None)
                if role:
                    used[role] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def live_training(playwright_browser, models: Path, epochs: int = 5, repeats: int = 3) -> None:
    """Median training seconds of the same job headless, and started from the Train page with the tab open. Every
    run has its own seed: an identical request would reuse the stored model instead of training."""
    from mnistlib import models as model_specs
    from mnistlib import store, training

    os.environ["MNISTLIB_MODELS_DIR"] = str(models)
    seeds = iter(range(int(time.time()) % 100_000 * 100, 2**31))
    trainer = training.Trainer()
    try:
        trainer.submit(training.TrainRequest("mnist", model_specs.ModelSpec(seed=next(seeds)), 1, subset="full")).wait()
        headless = [store.load_card(trainer.submit(training.TrainRequest(
            "mnist", model_specs.ModelSpec(seed=next(seeds)), epochs, subset="full")).wait().model_id).training_seconds
            for _ in range(repeats)]
    finally:
        trainer.shutdown()
    loads = [load_average()]
    server, url = start_app("app.py", environment(models), LOGS / "bench-live.log")
    watched, browser_cpu, server_cpu = {True: [], False: []}, {True: [], False: []}, {True: [], False: []}
    try:
        with fresh_page(playwright_browser) as page:
            page.goto(url)  # the first session after a start may see "Page not found" for a page's own URL
            page.wait_for_selector("h1", timeout=60_000)
        for run, live_curves in enumerate([True, False] * repeats):
            with fresh_page(playwright_browser) as page:
                page.goto(f"{url}/Train?seed={next(seeds)}&epochs={epochs}")
                page.wait_for_selector("button:has-text('Train')", timeout=60_000)
                give_name(page, f"Watcher {run}")
                page.wait_for_timeout(8000)  # let the server's worker finish warming up, as on a running server
                if not live_curves:
                    page.get_by_text("Live curves").click()
                    page.wait_for_timeout(1000)
                before = cpu_seconds()
                page.get_by_role("button", name="Train", exact=True).click()
                page.wait_for_selector("text=Test accuracy", timeout=300_000)
                after = cpu_seconds()
                browser_cpu[live_curves].append(after["chromium"] - before["chromium"])
                server_cpu[live_curves].append(after["server"] - before["server"])
                watched[live_curves].append(store.list_models()[0].training_seconds)
                loads.append(load_average())
    finally:
        stop_app(server)
    base, on, off = (statistics.median(values) for values in (headless, watched[True], watched[False]))
    print(f"live-training overhead, {epochs} epochs on MNIST, medians of {repeats}: headless {base:.2f} s "
          f"({', '.join(f'{t:.2f}' for t in headless)}); in the dashboard with a Chromium tab watching, live curves "
          f"on {on:.2f} s ({', '.join(f'{t:.2f}' for t in watched[True])}; ratio {on / base:.2f}, target ≤1.05), "
          f"live curves off (progress bar only) {off:.2f} s ({', '.join(f'{t:.2f}' for t in watched[False])}; "
          f"ratio {off / base:.2f}, target ≤1.05); load average {', '.join(loads)}")
    print("  CPU seconds from the click to 'Test accuracy', medians: the watching Chromium "
          f"{statistics.median(browser_cpu[True]):.2f} (curves on), {statistics.median(browser_cpu[False]):.2f} (off); "
          f"the Streamlit server {statistics.median(server_cpu[True]):.2f} (on), "
          f"{statistics.median(server_cpu[False]):.2f} (off)")


## Quick start: a student's click on the home page until the stored model's test accuracy shows


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


## Reruns: what a watching tab costs the server while a training runs


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
            for number, page in enumerate(pages[:train_tabs]):  # a CNN on full MNIST: minutes of training
                page.goto(f"{url}/Train?arch=cnn&epochs=5&seed=505")
                page.wait_for_selector("button:has-text('Train')", timeout=60_000)
                give_name(page, f"Watcher {number}")
                page.get_by_role("button", name="Train", exact=True).click()
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
