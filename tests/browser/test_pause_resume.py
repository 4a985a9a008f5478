"""Pause, Resume and One more epoch in Chromium: a paused training's epoch count stops moving, Resume finishes it, and
One more epoch makes a new model (naming its parent) whose history has one more epoch. A student who joined the same
training is told who may pause it, and gets no buttons."""

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import click_train, give_name, settle
from tests.browser.test_live_training import markers, open_train_page

PAUSED = "Paused — it keeps its place; other trainings wait for a free worker."


def cards(models) -> list:
    return [json.loads(path.read_text()) for path in models.glob("*/card.json")]


def test_pause_resume_then_one_more_epoch(page, browser, app_server):
    url, models = app_server
    epochs = 20
    open_train_page(page, url, arch="cnn", epochs=epochs, seed=303)  # a CNN: several polls per epoch
    give_name(page, "Pauser")
    click_train(page)
    page.wait_for_selector(f"text=/Epoch [1-5]\\/{epochs}/", timeout=120_000)

    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.locator(".live-training .status")).to_have_text(PAUSED, timeout=60_000)
    expect(page.get_by_role("button", name="Resume", exact=True)).to_be_visible()
    held = page.locator(".live-training .progress-text").inner_text()
    assert re.fullmatch(rf"Epoch \d+/{epochs} · step \d+/\d+", held)  # no time left is promised while paused

    joined = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()  # Joiner asks for the same
    try:
        open_train_page(joined, url, arch="cnn", epochs=epochs, seed=303)
        give_name(joined, "Joiner")
        click_train(joined)
        expect(joined.get_by_text("Pauser started this shared training, so only they (or the teacher) can pause, "
                                  "resume or step it: it runs for everyone who joined.")).to_be_visible()
        expect(joined.locator(".live-training .status")).to_have_text(PAUSED)
        expect(joined.get_by_role("button", name="Pause", exact=True)).to_have_count(0)
        expect(joined.get_by_role("button", name="Resume", exact=True)).to_have_count(0)
        # A new session reads the job from the server: it is where it was when paused, seconds ago.
        expect(joined.locator(".live-training .progress-text")).to_have_text(held)
    finally:
        joined.context.close()
    expect(page.locator(".live-training .progress-text")).to_have_text(held)  # the epoch count stopped moving

    page.get_by_role("button", name="Resume", exact=True).click()
    expect(page.get_by_text("Test accuracy")).to_be_visible(timeout=180_000)
    settle(page)
    assert markers(page, "loss", "train") == epochs
    [parent] = [card for card in cards(models) if card["trained_by"] == "Pauser"]
    assert parent["epochs_run"] == epochs

    page.get_by_role("button", name="One more epoch", exact=True).click()
    expect(page.locator(".live-training svg.chart")).to_have_attribute("data-epochs", str(epochs + 1),
                                                                         timeout=60_000)
    expect(page.get_by_text(re.compile(r"^Saved: the other pages now list it"))).to_be_visible(timeout=180_000)
    settle(page)
    child = next(card for card in cards(models) if card.get("parent") == parent["id"])
    assert [record["epoch"] for record in child["history"]] == list(range(1, epochs + 2))
    assert child["history"][:epochs] == parent["history"]
    assert markers(page, "loss", "train") == epochs + 1
    page.locator(".live-training svg.chart").scroll_into_view_if_needed()  # for the screenshot
