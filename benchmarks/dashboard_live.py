"""Live-training overhead: the same training headless against started from the Train page with a Chromium tab
watching the curves (on and off), and the CPU seconds each side uses."""

import contextlib
import os
import statistics
import time
from pathlib import Path

from benchmarks.dashboard_harness import LOGS, environment, fresh_page, load_average
from tests.browser.conftest import click_train, give_name, start_app, stop_app


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
                click_train(page)
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
