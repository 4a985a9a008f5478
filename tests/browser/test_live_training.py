"""The Train page's live view in Chromium: the curves grow in place while training (points appended, the elements
kept), the progress bar moves, the final figure has every epoch (also in a page opened after the end), and the
Live curves toggle hides and shows the curves."""

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.browser.conftest import click_train, give_name, settle

RUNNING_LINE = ".live-training .panel.loss polyline.running"  # Playwright's CSS reaches into the shadow root
ANNOUNCE = ".live-training .announce"


def open_train_page(page, url, **settings):
    page.goto(url)  # the first session after a start may see "Page not found" for a page's own URL
    page.wait_for_selector("h1", timeout=60_000)
    page.goto(f"{url}/Train?" + "&".join(f"{key}={value}" for key, value in settings.items()))
    page.wait_for_selector("h1", timeout=60_000)
    settle(page)


def running_points(page) -> int:
    """How many running-average points the loss panel's line holds in the DOM."""
    line = page.locator(RUNNING_LINE)
    return line.evaluate("(line) => line.points.numberOfItems") if line.count() else 0


def mark(page) -> list:
    """Tag the chart and its line (once); the tags read back unchanged only while the same elements are shown."""
    return [page.locator(selector).evaluate("(element) => (element.__testMark ??= Math.random())")
            for selector in (".live-training svg.chart", RUNNING_LINE)]


def wait_until(page, condition, seconds: float = 120) -> None:
    """Poll condition() every 0.1 s until it holds (an AssertionError after seconds)."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page did not get there in time")


def progress(page) -> float:
    return float(page.locator(".live-training .progress").get_attribute("aria-valuenow"))


def markers(page, panel: str, series: str) -> int:
    return page.locator(f".live-training .panel.{panel} .markers.{series} circle").count()


def every_epoch_drawn(page, epochs: int) -> None:
    """Wait until the loss panel has a training marker per epoch; else fail saying what the tab holds."""
    try:
        wait_until(page, lambda: markers(page, "loss", "train") == epochs, seconds=20)
    except AssertionError:
        kept = page.evaluate("""() => [...globalThis.__mnistLabLiveTraining.trainings.values()].map((kept) => ({
            records: kept.records.length, points: kept.points.length, asked: kept.asked, retries: kept.retries,
            latest: kept.latest && { ...kept.latest, points: kept.latest.points.length } }))""")
        raise AssertionError(f"{markers(page, 'loss', 'train')} epochs drawn of {epochs}; the tab has {kept}") from None


def test_the_curves_grow_in_place_and_the_final_figure_has_every_epoch(page, browser, app_server):
    url, _ = app_server
    epochs = 12
    open_train_page(page, url, arch="cnn", epochs=epochs, seed=101)  # a CNN: slower epochs, several polls each
    give_name(page, "Watcher")
    click_train(page)
    expect(page.locator(RUNNING_LINE)).to_be_attached(timeout=120_000)
    first_marks, first_points, first_progress = mark(page), running_points(page), progress(page)
    page.locator(ANNOUNCE).evaluate("""(element) => {  // count what a screen reader would be told from now on
        element.__announcements = 0;
        new MutationObserver(() => { element.__announcements += 1; }).observe(element, { childList: true });
    }""")
    wait_until(page, lambda: running_points(page) > first_points)
    assert mark(page) == first_marks, "the chart was replaced instead of appended to"
    assert progress(page) > first_progress
    expect(page.get_by_text("Test accuracy")).to_be_visible(timeout=180_000)
    settle(page)
    assert progress(page) == 100
    for panel in ("loss", "accuracy"):
        assert markers(page, panel, "train") == epochs and markers(page, panel, "validation") == epochs
    assert mark(page) == first_marks, "the chart was replaced when training ended"
    # Each finished epoch is announced politely, once: not on every poll (several per epoch for this CNN).
    expect(page.locator(ANNOUNCE)).to_have_attribute("aria-live", "polite")
    expect(page.locator(ANNOUNCE)).to_have_text(re.compile(
        rf"^Epoch {epochs} of {epochs} finished: loss \d+\.\d{{4}}, accuracy \d+\.\d%; "
        r"validation loss \d+\.\d{4}, validation accuracy \d+\.\d%\.$"))
    assert 1 <= page.locator(ANNOUNCE).evaluate("(element) => element.__announcements") <= epochs
    every_point = running_points(page)
    assert every_point > first_points
    page.locator(".live-training svg.chart").scroll_into_view_if_needed()  # for the screenshot

    job_id = parse_qs(urlparse(page.url).query)["job"][0]
    later = browser.new_page(viewport={"width": 1400, "height": 1000})  # opened after the end: a new session
    try:
        later.goto(f"{url}/Train?job={job_id}")
        expect(later.get_by_text("Test accuracy")).to_be_visible(timeout=60_000)
        expect(later.locator(".live-training svg.chart")).to_have_attribute("data-epochs", str(epochs))
        assert markers(later, "accuracy", "validation") == epochs and running_points(later) == every_point
        later.locator(".live-training .panel.loss .hover-target").hover()
        expect(later.locator(".live-training .tooltip")).to_have_text(re.compile(r".+: loss \d+\.\d{4}$"))
    finally:
        later.close()


def test_live_curves_off_then_on(page, app_server):
    url, _ = app_server
    open_train_page(page, url, arch="cnn", epochs=50, seed=202)
    give_name(page, "Toggler")
    page.get_by_text("Live curves", exact=True).click()
    settle(page)
    click_train(page)
    page.wait_for_selector("text=/Epoch [2-9]\\/50/", timeout=120_000)
    expect(page.get_by_text("Live curves are off")).to_be_visible()
    assert progress(page) > 0
    expect(page.locator(".live-training .curves")).to_be_hidden()  # the bar moves, no curves are drawn

    page.get_by_text("Live curves", exact=True).click()  # on again, mid-training: every point so far is drawn at once
    expect(page.locator(".live-training .curves")).to_be_visible(timeout=30_000)
    assert running_points(page) >= 2 and markers(page, "loss", "train") >= 1
    page.wait_for_selector("text=/Epoch (1[0-9]|[2-4][0-9])\\/50/", timeout=120_000)
    page.get_by_role("button", name="Stop", exact=True).click()
    stopped = page.get_by_text(re.compile(r"Stopped\. The model as of epoch \d+"))
    expect(stopped).to_be_visible(timeout=60_000)
    settle(page)
    epochs_done = int(re.search(r"epoch (\d+)", stopped.inner_text()).group(1))
    # Every finished epoch is on the curves (a record the tab missed is sent again when it asks).
    every_epoch_drawn(page, epochs_done)
    assert markers(page, "accuracy", "validation") == epochs_done

    # A message lost on the way (a rerun of the page drops what was not sent yet): the tab sees the gap at the next
    # message and asks for what it misses, here with the job ended, so no poll would ever bring it.
    lost = page.evaluate("""() => {
        const live = globalThis.__mnistLabLiveTraining;
        const kept = [...live.trainings.values()].at(-1);
        kept.records.length = Math.max(0, kept.latest.records_from - 1);
        kept.points.length = Math.max(0, kept.latest.points_from - 1);
        kept.recordsVersion += 1;
        kept.generation += 1;
        live.queue.push({ data: kept.latest });
        live.process();
        return kept.records.length;
    }""")
    assert lost < epochs_done
    every_epoch_drawn(page, epochs_done)
    assert markers(page, "accuracy", "validation") == epochs_done
    page.locator(".live-training svg.chart").scroll_into_view_if_needed()  # for the screenshot
