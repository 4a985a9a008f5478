"""WCAG 2.1 A/AA checked by axe-core in real Chromium: every page of the app, with a trained model open and with no
model yet, has no violation of the tags wcag2a, wcag2aa, wcag21a and wcag21aa, at any impact; nor do a training
running, the teacher's board, a lesson link with hidden controls and a confusion cell's gallery. Each page has
lang="en" and its own title."""

import os
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from dashboard.layout import PAGES
from mnistlib import datasets, models, store
from tests.browser.conftest import REPO, click_train, give_name, open_page, settle, start_app, stop_app
from tests.browser.test_class import PASSWORD, Person
from tests.test_ui_insight import png, train_with_map

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Elements Streamlit draws itself and the app cannot change, each with the reason; axe skips exactly these. None is
# needed in the states checked here: every violation axe-core 4.x found was the app's own and is fixed.
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


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory):
    """A second app with an empty store (no model yet) and a teacher password, for the states before any training."""
    models = tmp_path_factory.mktemp("fresh-models")
    environment = {**os.environ, "MNISTLIB_SUBSET": "small", "MNISTLIB_MODELS_DIR": str(models),
                   "MNISTLIB_TEACHER_PASSWORD": PASSWORD}
    server, url = start_app("app.py", environment, REPO / "tests" / "output" / "fresh-server.log")
    yield url
    stop_app(server)


def test_every_page_with_no_model_yet(browser, fresh_server):
    """A new class: the store is empty, so each page says there is no model yet and offers what to do."""
    student = Person(browser, fresh_server)
    try:
        student.open()  # a cold server's first direct page load shows "Page not found"; the home page first
        for entry in PAGES:
            student.open(entry.url_path)
            expect(student.tab).to_have_title(f"{entry.title} · MNIST Lab")
            assert_no_violations(student.tab, f"{entry.title}, no model yet")
    finally:
        student.context.close()


def test_the_teachers_board(browser, fresh_server):
    teacher = Person(browser, fresh_server)
    try:
        teacher.open()
        teacher.sidebar().get_by_text("Teacher", exact=True).click()
        teacher.tab.get_by_label("Teacher password").fill(PASSWORD)
        teacher.tab.get_by_role("button", name="Sign in").click()
        expect(teacher.sidebar()).to_contain_text("Teacher — signed in")
        teacher.wait_for_cookie("mnistlab_teacher")
        teacher.open("Board")
        teacher.tab.get_by_text("Challenges and results").click()  # the teacher's second panel open too
        teacher.tab.get_by_role("button", name="Download results (CSV)").wait_for()
        assert_no_violations(teacher.tab, "Board, the teacher signed in, both panels open")
    finally:
        teacher.context.close()


def test_a_training_running(page, app_server, stored):
    url, _ = app_server
    open_page(page, url, "Train")
    give_name(page, "Running Student")
    page.get_by_text("CNN", exact=True).click()  # slower per epoch than the Dense network: it is still running
    settle(page)
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("50")
    epochs.press("Enter")
    settle(page)
    click_train(page)
    page.wait_for_selector("text=/Epoch [2-9]\\/50/", timeout=120_000)  # running, with curves drawn
    found = violations(page)  # while it runs: no waiting for Streamlit to be quiet, it reruns twice a second
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_enabled()  # and it was still running
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_selector("text=Stopped. The model as of epoch", timeout=60_000)
    assert not found, f"Train, a training running: {described(found)}"


def test_a_lesson_link_with_hidden_controls(page, app_server, stored):
    url, _ = app_server
    open_page(page, url, "Train", dataset="mnist", optimizer="sgd", learning_rate="0.1", units="32", epochs="1",
              lock="optimizer,learning_rate,units", hide="architecture,epochs")
    expect(page.locator('[data-testid="stMain"]').get_by_role("spinbutton", name="Epochs", exact=True)).to_have_count(0)
    assert_no_violations(page, "Train, a lesson link with hidden controls")


def test_the_gallery_of_a_confusion_cell(page, app_server, stored):
    url, _ = app_server
    open_page(page, url, "Mistakes", model=stored.id, true="1", pred="1")
    expect(page.get_by_text(re.compile("test images are 1 predicted as 1"))).to_be_visible()
    page.get_by_role("img", name=re.compile("^Test image \\d+: true 1, predicted 1")).first.wait_for()
    assert_no_violations(page, "Mistakes, the gallery of cell (1, 1)")


def test_the_keyboard_choices_and_text_tables_open(page, app_server, stored):
    url, _ = app_server
    open_page(page, url, "Model_insight", model=stored.id)
    page.get_by_text("One test image and its nearest points on the map").click()
    page.get_by_text(re.compile("^The 8 points nearest to test image 0")).wait_for()
    page.get_by_text("The map as a table (for a screen reader)").click()
    assert_no_violations(page, "Model insight, the nearest points and the map's tables open")
    open_page(page, url, "Mistakes", model=stored.id)
    page.get_by_text("The confusion matrix as a table").first.click()
    page.get_by_role("columnheader", name="true ↓ / predicted →").first.wait_for()
    assert_no_violations(page, "Mistakes, the confusion matrix's table open")


def test_play_becomes_a_slow_slideshow_under_reduced_motion(browser, app_server, stored):
    url, _ = app_server
    note = "Your system asks for reduced motion"
    for motion, shown in (("reduce", True), ("no-preference", False)):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, reduced_motion=motion)
        try:
            tab = context.new_page()
            open_page(tab, url, "Predict", model=stored.id)
            tab.get_by_role("button", name="▶ Play").wait_for()
            if not shown:
                expect(tab.get_by_text(note)).to_be_hidden()
            else:  # said on the page, and it still plays: from epoch 1 up, one epoch every 2.5 s
                expect(tab.get_by_text(note)).to_be_visible()
                tab.get_by_role("button", name="▶ Play").click()
                expect(tab.get_by_role("slider", name="After epoch")).to_have_value("2")
                assert_no_violations(tab, "Predict, reduced motion, playing")
        finally:
            context.close()


@pytest.fixture(scope="module")
def cnn_server(tmp_path_factory):
    """A third app whose store holds a dense model and a CNN (its own store: the shared one keeps its models), for
    Compare's two-model charts and a CNN's explanation."""
    folder = tmp_path_factory.mktemp("cnn-models")
    previous = os.environ.get("MNISTLIB_MODELS_DIR")
    os.environ["MNISTLIB_MODELS_DIR"] = str(folder)
    try:
        dense, _ = train_with_map(name="Dense for the accessibility check")
        cnn, _ = train_with_map(name="CNN for the accessibility check",
                                spec=models.ModelSpec(architecture="cnn", hidden_units=16, seed=1))
    finally:
        os.environ["MNISTLIB_MODELS_DIR"] = previous or ""
    environment = {**os.environ, "MNISTLIB_SUBSET": "small", "MNISTLIB_MODELS_DIR": str(folder)}
    server, url = start_app("app.py", environment, REPO / "tests" / "output" / "cnn-server.log")
    yield url, dense, cnn
    stop_app(server)


def test_compare_and_a_cnns_explanation_with_its_tables(page, cnn_server):
    url, dense, cnn = cnn_server
    open_page(page, url, "Compare", dataset="mnist", a=dense.id, b=cnn.id)
    page.get_by_role("heading", name="Accuracy per class").wait_for()
    assert_no_violations(page, "Compare, a dense model and a CNN")
    open_page(page, url, "Predict", model=cnn.id, image="7")
    page.get_by_text("Why this answer?").click()
    page.locator("strong", has_text=re.compile("^Predicted: ")).last.wait_for(timeout=60_000)
    tables = page.locator('[data-testid="stDataFrame"]')
    before = tables.count()
    page.get_by_text("Show the activations as a table").click()
    expect(tables).to_have_count(before + 1, timeout=30_000)
    page.get_by_role("tab", name="Convolutions").click()
    page.get_by_text("Show Grad-CAM's share of the heat as a table").click()
    page.get_by_text(re.compile("In words: the Grad-CAM")).wait_for()
    expect(tables).to_have_count(before + 2, timeout=30_000)
    assert_no_violations(page, "Predict, a CNN explained with its tables open")
