"""WCAG 2.1 A/AA checked by axe-core in real Chromium: every page of the app, with a trained model open, has no
violation of the tags wcag2a, wcag2aa, wcag21a and wcag21aa, at any impact; each has lang="en" and its own title."""

import os
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from dashboard.layout import PAGES
from mnistlib import datasets, store
from tests.browser.conftest import open_page, settle
from tests.test_ui_insight import png, train_with_map

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Elements Streamlit draws itself and the app cannot change, each with the reason; axe skips exactly these.
STREAMLIT_OWN: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def first_visit(app_server, browser):
    """The home page first, as a class starts: a cold server asked for another page first shows "Page not found"."""
    tab = browser.new_page()
    open_page(tab, app_server[0])
    tab.close()


@pytest.fixture(scope="module")
def stored(app_server):
    """A dense model in the app's own store, with its per-epoch test probabilities and hidden-space map."""
    _, models_folder = app_server
    previous = os.environ.get("MNISTLIB_MODELS_DIR")
    os.environ["MNISTLIB_MODELS_DIR"] = str(models_folder)
    try:
        card, _ = train_with_map(name="Model for the accessibility check")
        store.load_model(card.id)  # it loads, as the pages will load it
    finally:
        os.environ["MNISTLIB_MODELS_DIR"] = previous or ""
    return card


def assert_no_violations(tab, where: str) -> None:
    """Wait until Streamlit has drawn everything (its script finished, images loaded), then run axe."""
    tab.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
    tab.wait_for_load_state("networkidle")  # images and components fetched before axe looks at them
    tab.wait_for_function("[...document.images].every(image => image.complete)")
    settle(tab)
    found = violations(tab)
    assert not found, f"{where}: {sum(len(rule['nodes']) for rule in found)} violations\n{described(found)}"


def violations(tab) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page as drawn now (Streamlit's own elements left out)."""
    context = {"exclude": [[selector] for selector in STREAMLIT_OWN]} if STREAMLIT_OWN else None
    results = Axe().run(tab, context=context, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                                       "resultTypes": ["violations"]})
    return results.response["violations"]


def described(found: list[dict]) -> str:
    """Two lines per failing element: the rule, its impact and the element's selector; axe's summary and the HTML."""
    return "\n".join(f"{rule['id']} ({rule['impact']}): {node['target']} — {rule['help']}\n"
                     f"    {node['failureSummary']} in {node['html'][:160]}"
                     for rule in found for node in rule["nodes"])


@pytest.mark.parametrize("entry", PAGES, ids=[entry.title for entry in PAGES])
def test_page_has_no_wcag_violations(page, app_server, stored, entry):
    url, _ = app_server
    open_page(page, url, entry.url_path, model=stored.id)
    # A screen reader announces the language and each page by its own title (the sidebar titles are distinct).
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page).to_have_title(f"{entry.title} · MNIST Lab")
    assert_no_violations(page, entry.title)


def test_predict_with_the_tutorial_figure_and_the_explanation_open(page, app_server, stored):
    url, _ = app_server
    open_page(page, url, "Predict", model=stored.id, image="7")
    page.get_by_text("Show the TensorFlow tutorial's figure", exact=False).click()
    page.get_by_role("button", name="Download PNG").wait_for()
    page.get_by_text("Why this answer?").click()
    page.locator("strong", has_text=re.compile("^Predicted: ")).last.wait_for(timeout=60_000)
    assert_no_violations(page, "Predict, figure and explanation open")


def test_draw_with_an_upload_explained(page, app_server, stored):
    url, _ = app_server
    open_page(page, url, "Draw", model=stored.id)
    page.get_by_role("tab", name=re.compile("Upload")).click()
    page.locator('input[type="file"]').set_input_files(files=[{"name": "digit.png", "mimeType": "image/png",
                                                               "buffer": png(datasets.load("mnist", "small").x_test[3])}])
    page.locator("strong", has_text=re.compile("^Predicted: ")).last.wait_for(timeout=60_000)
    assert_no_violations(page, "Draw, an upload explained")
