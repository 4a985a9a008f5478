"""Lesson links in Chromium: a link's locked controls are disabled and its hidden ones gone, with the lesson's note,
the page trains with the link's values, and the "Copy lesson link" URL reproduces the page in another browser."""

import pytest
from playwright.sync_api import expect

from mnistlib import models, store
from tests.browser.conftest import click_train, give_name, settle

LESSON = ("dataset=mnist&optimizer=sgd&learning_rate=0.1&units=32&epochs=1"
          "&lock=optimizer,learning_rate,units&hide=architecture,epochs")
LESSON_NOTE = ("This lesson fixes the units per hidden layer, the optimizer and the learning rate, and sets the "
               "architecture to Dense (the tutorial's) and the number of epochs to 1.")


@pytest.fixture(scope="module")
def served(app_server, browser):
    """The app, opened once at its home page: a fresh server's very first direct page load shows Streamlit's "Page
    not found" over the right page, which is not what these tests are about."""
    url, models_folder = app_server
    tab = browser.new_page()
    tab.goto(url)
    tab.wait_for_selector("h1", timeout=60_000)
    settle(tab)
    tab.close()
    return url, models_folder


def open_url(tab, address: str) -> None:
    tab.goto(address)
    tab.wait_for_selector("h1", timeout=60_000)  # the page's own script has run
    settle(tab)


def control(tab, role: str, label: str):
    """A settings control in the page's main area (the link builder's lists name the same settings)."""
    return tab.locator('[data-testid="stMain"]').get_by_role(role, name=label, exact=True)


def expect_the_lesson(tab) -> None:
    """The lesson of LESSON: its note, three disabled controls at its values, two controls hidden, the rest free."""
    expect(tab.get_by_text(LESSON_NOTE)).to_be_visible()
    expect(control(tab, "combobox", "Optimizer")).to_be_disabled()
    expect(control(tab, "combobox", "Optimizer")).to_have_value("sgd")
    for label, value in (("Learning rate", "0.1"), ("Units per hidden layer", "32")):
        expect(control(tab, "group", label)).to_have_attribute("data-disabled", "true")
        expect(control(tab, "group", label).get_by_role("slider")).to_have_attribute("aria-valuetext", value)
    expect(control(tab, "group", "Batch size")).not_to_have_attribute("data-disabled", "true")
    expect(control(tab, "radiogroup", "Architecture")).to_have_count(0)
    expect(control(tab, "spinbutton", "Epochs")).to_have_count(0)
    expect(control(tab, "spinbutton", "Seed")).to_be_enabled()


def shown_link(tab) -> str:
    """The link the "Copy lesson link" box shows (opened first)."""
    summary = tab.locator("summary", has_text="Copy lesson link")
    if summary.locator("xpath=..").get_attribute("open") is None:
        summary.click()
        settle(tab)
    code = tab.locator('[data-testid="stCode"]', has_text="/Train?")
    expect(code).to_be_visible()
    return code.inner_text().strip()


def test_a_lesson_link_fixes_its_controls_and_trains_with_them(page, served, monkeypatch):
    url, models_folder = served
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(models_folder))
    before = {card.id for card in store.list_models()}
    open_url(page, f"{url}/Train?{LESSON}")
    expect_the_lesson(page)
    give_name(page, "Lesson Student")  # as a student does who opens the teacher's link
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled(timeout=30_000)
    click_train(page)
    page.wait_for_selector("text=Test accuracy", timeout=180_000)
    settle(page)
    [card] = [card for card in store.list_models() if card.id not in before]
    assert models.ModelSpec.from_dict(card.spec) == models.ModelSpec(hidden_units=32, optimizer="sgd",
                                                                     learning_rate=0.1)
    assert card.epochs_run == 1
    expect_the_lesson(page)  # after training too
    link = shown_link(page)  # starting from the lesson the page has
    assert link.startswith(f"{url}/Train?") and "job=" not in link
    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = other.new_page()
        open_url(tab, link)
        expect_the_lesson(tab)
        assert shown_link(tab) == link
    finally:
        other.close()
    sidebar = page.locator('[data-testid="stSidebarNav"]')
    sidebar.get_by_text("Dataset", exact=True).click()  # another page and back: the lesson stays
    expect(page.locator("h1").first).not_to_have_text("Train a network", timeout=30_000)
    settle(page)
    sidebar.get_by_text("Train", exact=True).click()
    expect(page.get_by_text(LESSON_NOTE)).to_be_visible(timeout=30_000)
    settle(page)
    expect_the_lesson(page)


def test_the_copy_lesson_link_reproduces_the_page_in_another_browser(page, served):
    url, _ = served
    open_url(page, f"{url}/Train")
    page.get_by_text("CNN", exact=True).click()
    settle(page)
    epochs = control(page, "spinbutton", "Epochs")
    epochs.fill("7")
    epochs.press("Enter")
    settle(page)
    control(page, "group", "Batch size").get_by_role("slider").press("ArrowRight")  # 32 → 64
    settle(page)
    shown_link(page)
    for label, names in (("Lock (shown, cannot be changed)", ["Seed", "Optimizer"]),
                         ("Hide (not shown, fixed)", ["Epochs"])):
        for name in names:
            choice = page.get_by_role("combobox", name=label)
            option = page.get_by_role("listbox", name=label).get_by_role("option", name=name, exact=True)
            for attempt in range(3):  # a rerun landing after the typing redraws the box closed and empty: again
                choice.fill(name)  # the list narrows to that setting
                try:
                    expect(option).to_be_visible(timeout=15_000)
                    break
                except AssertionError:
                    if attempt == 2:
                        raise
            option.click()
            choice.press("Escape")
            tags = page.locator('[data-testid="stMultiSelect"]', has_text=label).locator("[data-tag]")
            expect(tags.filter(has_text=name)).to_have_count(1)
            settle(page)
    link = (f"{url}/Train?dataset=mnist&architecture=cnn&optimizer=adam&batch_size=64&epochs=7&seed=0"
            "&lock=optimizer,seed&hide=epochs")
    shown_link(page)  # the box open; the rerun after the last choice may still be on its way: wait for its link
    expect(page.locator('[data-testid="stCode"]', has_text="/Train?")).to_have_text(link, timeout=60_000)
    assert "architecture=cnn" in page.url and "batch_size=64" in page.url  # the page's own URL follows too
    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = other.new_page()
        open_url(tab, link)
        expect(tab.get_by_text("This lesson fixes the optimizer and the seed, and sets the number of epochs to 7."))\
            .to_be_visible()
        expect(control(tab, "radiogroup", "Architecture").get_by_role("radio", name="CNN")).to_be_checked()
        expect(control(tab, "group", "Batch size").get_by_role("slider")).to_have_attribute("aria-valuetext", "64")
        expect(control(tab, "spinbutton", "Seed")).to_be_disabled()
        expect(control(tab, "combobox", "Optimizer")).to_be_disabled()
        expect(control(tab, "spinbutton", "Epochs")).to_have_count(0)
        expect(control(tab, "group", "Dropout")).to_have_count(1)  # the CNN's own default dropout
        expect(control(tab, "group", "Dropout").get_by_role("slider")).to_have_attribute("aria-valuetext", "0.25")
        assert shown_link(tab) == link
    finally:
        other.close()
    sidebar = page.locator('[data-testid="stSidebarNav"]')
    sidebar.get_by_text("Dataset", exact=True).click()  # another page and back: the settings stay
    expect(page.locator("h1").first).not_to_have_text("Train a network", timeout=30_000)
    settle(page)
    sidebar.get_by_text("Train", exact=True).click()
    expect(control(page, "radiogroup", "Architecture").get_by_role("radio", name="CNN")).to_be_checked(timeout=30_000)
    settle(page)
    expect(control(page, "spinbutton", "Epochs")).to_have_value("7")
    expect(control(page, "group", "Batch size").get_by_role("slider")).to_have_attribute("aria-valuetext", "64")
    assert shown_link(page) == link
