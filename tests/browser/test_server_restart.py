"""A server killed (SIGKILL) in the middle of a class and started again: each student's queued training is
queued again and finishes, the one that was running is trained again from the start (the shared queue takes it
over), and ?job= links still work."""

import os
import signal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, click_train, give_name, settle, start_app, stop_app


@pytest.fixture
def server_factory(tmp_path):
    """Start the app on the same store as often as a test wants; everything started is stopped at the end."""
    started = []
    environment = {**os.environ, "MNISTLIB_SUBSET": "small", "MNISTLIB_MODELS_DIR": str(tmp_path / "models"),
                   "MNISTLIB_MAX_TRAININGS": "1"}

    def start():
        server, url = start_app("app.py", environment, REPO / "tests" / "output" / "restart-server.log")
        started.append(server)
        return server, url

    yield start
    for server in started:
        stop_app(server)


def train(tab, url: str, name: str, seed: int, epochs: int, settings: str = "") -> str:
    """As a student: open Train (settings from the link), give a name, click Train; returns the job id."""
    tab.goto(f"{url}/Train?seed={seed}&epochs={epochs}{settings}")
    tab.wait_for_selector("h1", timeout=60_000)
    give_name(tab, name)
    settle(tab)
    click_train(tab)
    tab.wait_for_url("**job=*", timeout=60_000)
    return tab.url.split("job=")[1].split("&")[0]


def test_a_restart_in_the_middle_of_a_queue_keeps_the_queued_jobs(browser, server_factory):
    server, url = server_factory()
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(3)]
    tabs = [context.new_page() for context in contexts]
    # A long training (a CNN with many units, small batches): still running when the server is killed.
    running = train(tabs[0], url, "Runner", seed=1, epochs=50, settings="&architecture=cnn&units=1024&batch_size=8")
    tabs[0].wait_for_selector("text=/Epoch ([2-9]|[1-4][0-9])\\/50/", timeout=120_000)
    queued = [train(tab, url, f"Waiter {number}", seed=10 + number, epochs=2) for number, tab in
              enumerate(tabs[1:], start=1)]
    for tab in tabs[1:]:
        expect(tab.get_by_text("ahead of you")).to_be_visible(timeout=30_000)

    os.killpg(server.pid, signal.SIGKILL)  # the server dies mid-class: no chance to save anything
    server.wait(30)
    _, url = server_factory()

    tabs[0].goto(f"{url}/Train?job={running}")  # trained again from the start: its student stops it this time
    tabs[0].wait_for_selector("text=/Epoch [0-9]+\\/50/", timeout=120_000)
    settle(tabs[0])
    tabs[0].screenshot(path=str(REPO / "docs" / "screenshots" / "restart_running_trained_again.png"), full_page=True)
    tabs[0].get_by_role("button", name="Stop", exact=True).click()
    expect(tabs[0].get_by_role("button", name="Train", exact=True)).to_be_enabled(timeout=120_000)
    for tab, job_id in zip(tabs[1:], queued, strict=True):  # the students' tabs reload the same links
        tab.goto(f"{url}/Train?job={job_id}")
        tab.wait_for_selector("text=Test accuracy", timeout=240_000)
        settle(tab)
    for tab in tabs:
        assert tab.locator('[data-testid="stException"]').count() == 0
    for context in contexts:
        context.close()
