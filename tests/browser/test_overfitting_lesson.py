"""Home's overfitting lesson in Chromium: a row's link opens Train with that row's settings, the page trains it,
and the run appears in Home's side-by-side table."""

import pytest
from playwright.sync_api import expect

from mnistlib import overfitting_lesson
from tests.browser.conftest import click_train, give_name, open_page, settle


@pytest.fixture(scope="module")
def served(app_server, browser):
    """The app, opened once at its home page (a fresh server's very first page load is not what this tests)."""
    url, models_folder = app_server
    tab = browser.new_page()
    tab.goto(url)
    tab.wait_for_selector("h1", timeout=60_000)
    settle(tab)
    tab.close()
    return url, models_folder


def main(tab):
    return tab.locator('[data-testid="stMain"]')


def test_a_lesson_row_opens_train_with_its_settings_and_its_result_reaches_home(page, served):
    url, _ = served
    open_page(page, url)
    give_name(page, "Overfitting Student")  # a name no other test on this server takes
    row = overfitting_lesson.ROWS[2]  # L2 weight decay 0.01
    table = main(page).get_by_role("table")
    expect(table.get_by_role("row").filter(has_text=row.title)).to_contain_text("Not trained yet.")
    main(page).get_by_role("link", name=f"→ {row.title}").click()
    expect(page.locator("h1").first).to_have_text("Train a network")
    settle(page)
    expect(main(page).get_by_role("spinbutton", name="Training images (0: all)", exact=True)).to_have_value("500")
    expect(main(page).get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value("30")
    expect(main(page).get_by_role("group", name="L2 weight decay", exact=True).get_by_role("slider")) \
        .to_have_attribute("aria-valuetext", "0.01")
    expect(main(page).get_by_role("checkbox", name="Augment the training images")).not_to_be_checked()
    assert "l2=0.01" in page.url and "train_images=500" in page.url
    click_train(page)
    page.wait_for_selector("text=Test accuracy", timeout=180_000)
    settle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Home", exact=True).click()
    expect(page.locator("h1").first).to_have_text("MNIST Lab")
    settle(page)
    trained = main(page).get_by_role("table").get_by_role("row").filter(has_text=row.title)
    expect(trained).not_to_contain_text("Not trained yet.")
    expect(trained).to_contain_text("points")
    trained.scroll_into_view_if_needed()
