"""Browse latency: Predict's Next against the framework's floor (a number input and a Plotly bar), and what each of
the page's necessities (a fragment, the URL, the wide layout) costs on top of the floor."""

import statistics
import time
from pathlib import Path

from benchmarks.dashboard_harness import LOGS, environment, fresh_page, percentile
from tests.browser.conftest import start_app, stop_app

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
