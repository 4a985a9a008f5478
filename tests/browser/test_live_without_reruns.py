"""A watching tab costs the server no reruns: while a training runs, the Train page's live view polls the job's
progress route and the class board's watcher polls the board's counter (dashboard/routes.py), and /metrics counts
every script run the server makes. Read before and after a stretch of watching, the count does not move, while the
curves grow; when the job ends, the Train page shows its results and the board its new model. On Predict, a burst
of clicks on Next costs one follow-up rerun."""

import os
import re
import urllib.request

from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from dashboard.identity import STUDENT_COOKIE
from tests.browser.conftest import click_train, give_name, open_page, settle
from tests.browser.test_live_training import RUNNING_LINE, open_train_page, progress, running_points, wait_until
from tests.conftest import train_and_store

POLLS_WATCHED = 20  # progress requests the Train tab makes while we watch (twice a second: about 10 s)
BOARD_POLLS_WATCHED = 3  # the board's tab polls every 3 s


def scrape(url: str) -> dict:
    """/metrics as {(name, labels): value}."""
    body = urllib.request.urlopen(f"{url}/metrics", timeout=60).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def trainings_now(url: str) -> float:
    """Trainings queued, starting or running on the server now."""
    return sum(value for (name, _), value in scrape(url).items() if name == "mnistlab_trainings")


def reruns(samples: dict) -> dict:
    """Script runs so far by kind."""
    return {dict(labels)["kind"]: value for (name, labels), value in samples.items() if name == "mnistlab_reruns_total"}


def test_watching_tabs_cost_no_reruns_while_a_training_runs(page, browser, app_server):
    url, _ = app_server
    # Other tests share this server: a training one of them left going would end while we watch and (rightly)
    # rerun the board. Start from a server with nothing queued or running.
    wait_until(page, lambda: trainings_now(url) == 0, seconds=300)
    board = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        open_page(board, url, "Board")  # the class's models of MNIST, as other tests on this server left them
        count = board.get_by_text(re.compile(r"^\d+ model\(s\)\.$"))
        listed_before = int(count.first.inner_text().split()[0]) if count.count() else 0
        board_polls = []
        board.on("request", lambda request: "/api/board/version" in request.url and board_polls.append(request.url))

        # Five hidden layers of 1,024 units on batches of 8 for 50 epochs: longer than the watch on any machine (about
        # 45 s on an idle one); we stop it after watching.
        open_train_page(page, url, layers=5, units=1024, epochs=50, batch_size=8, seed=404)
        give_name(page, "Quiet watcher")
        polls = []
        page.on("request", lambda request: "/progress?" in request.url and polls.append(request.url))
        click_train(page)
        expect(page.locator(RUNNING_LINE)).to_be_attached(timeout=120_000)
        settle(page)
        # The job's journal rows going queued → running changed the board's counter: let the board's next polls
        # see it and its rerun end before counting.
        seen = len(board_polls)
        wait_until(page, lambda: len(board_polls) >= seen + 2)
        settle(board)
        settle(page)
        before, points_before, progress_before = scrape(url), running_points(page), progress(page)
        polls_before, board_polls_before = len(polls), len(board_polls)

        try:
            wait_until(page, lambda: len(polls) >= polls_before + POLLS_WATCHED
                       and len(board_polls) >= board_polls_before + BOARD_POLLS_WATCHED)
        except AssertionError as error:
            raise AssertionError(f"{len(polls) - polls_before} progress polls and {len(board_polls) - board_polls_before}"
                                 f" board polls seen; {scrape(url).get(('mnistlab_trainings', (('status', 'running'),)))}"
                                 " training(s) running") from error
        during = scrape(url)
        assert during[("mnistlab_trainings", (("status", "running"),))] == 1, "the training ended while we watched"
        assert reruns(during) == reruns(before), "a watching tab made the server rerun a script"
        assert during[("mnistlab_sessions", ())] >= 2
        # The view went on growing meanwhile: the points came through the route.
        assert running_points(page) > points_before and progress(page) > progress_before

        # The end: Stop, then the Train page shows the model as of its last epoch, the board lists the new model.
        page.get_by_role("button", name="Stop", exact=True).click()
        expect(page.get_by_text(re.compile(r"Stopped\. The model as of epoch \d+"))).to_be_visible(timeout=120_000)
        # One more than it listed before (other tests on this shared server may have stored MNIST models too).
        expect(board.get_by_text(re.compile(rf"^{listed_before + 1} model\(s\)\.$"))).to_be_visible(timeout=60_000)
        settle(page)
        samples = scrape(url)
        after = reruns(samples)
        for path in ("Train", "Board"):  # each page's runs are timed, labelled by the page
            assert samples[("mnistlab_page_script_seconds_count", (("page", path),))] >= 1
            assert samples[("mnistlab_page_script_seconds_sum", (("page", path),))] > 0
        # Two runs of the live view: the Stop click's, and the one the tab asked for when it saw the job end.
        assert after["fragment-live"] - reruns(during)["fragment-live"] == 2
        assert 1 <= after["fragment-board"] - reruns(during)["fragment-board"] <= 2  # the board's counter changed
        assert 0 < progress(page) < 100  # stopped on the way
        # An ended job is not polled any more: the tab keeps no poller.
        assert page.evaluate("() => globalThis.__mnistLabLiveTraining.pollers.size") == 0
    finally:
        board.close()


def test_a_burst_of_clicks_on_next_costs_one_follow_up_rerun(page, app_server):
    url, models_folder = app_server
    previous = os.environ["MNISTLIB_MODELS_DIR"]
    os.environ["MNISTLIB_MODELS_DIR"] = str(models_folder)
    try:
        card = train_and_store("mnist", epochs=1, name="burst test model")
    finally:
        os.environ["MNISTLIB_MODELS_DIR"] = previous
    open_page(page, url)  # the first visit after a start may not know the pages' own URLs yet
    open_page(page, url, "Predict", model=card.id, image=20)
    expect(page.locator("h3.predicted")).to_be_visible(timeout=60_000)  # the in-page browser has its data
    settle(page)
    before = reruns(scrape(url))
    # Six clicks in one go (one task of the page's JavaScript), as a student hammering Next does.
    page.get_by_role("button", name="Next ▶").evaluate("(button) => { for (let i = 0; i < 6; i += 1) button.click(); }")
    expect(page).to_have_url(re.compile(r"[?&]image=26(&|$)"), timeout=60_000)  # the server followed, once
    settle(page)
    after = reruns(scrape(url))
    assert after["browse-follow-up"] - before["browse-follow-up"] == 1
    assert after["page"] == before["page"]  # the follow-up reruns only the browser's fragment


def test_a_tab_the_route_refuses_still_follows_its_training_by_reruns(page, app_server):
    """A session whose browser no longer sends the name's cookie (it was cleared; a school-account login is the same
    for the route) gets 403 from the progress route: its tab falls back to fragment reruns, and the view goes on."""
    url, _ = app_server
    open_train_page(page, url, arch="cnn", epochs=8, seed=606)
    give_name(page, "Cookie-less")
    # The name's cookie is written by the browser after the name is saved: clear it only once it is there.
    wait_until(page, lambda: any(cookie["name"] == STUDENT_COOKIE for cookie in page.context.cookies()))
    refused = []
    page.on("response", lambda response: "/progress?" in response.url and response.status == 403
            and refused.append(response.url))
    page.context.clear_cookies()  # the session still knows who this is; the route cannot
    before = reruns(scrape(url))
    click_train(page)
    expect(page.get_by_text("Test accuracy")).to_be_visible(timeout=300_000)
    settle(page)
    assert refused, "the route answered a browser without the name's cookie"
    assert reruns(scrape(url))["fragment-live"] - before["fragment-live"] >= 2  # the fallback's reruns
    assert progress(page) == 100
    expect(page.locator(".live-training .panel.loss .markers.train circle")).to_have_count(8)
