"""A class's own photographed digits in real Chromium: uploaded as a zip on "Your data", trained on the Train page,
their mistakes browsed on the Mistakes page. The app runs with its own empty data folder and model store."""

import os
import re

import numpy as np
import pytest
from playwright.sync_api import expect

from mnistlib import datasets, store
from tests.browser.conftest import REPO, click_train, give_name, open_page, settle, start_app, stop_app
from tests.test_importing import digit_zip, make_zip

NAME = "photo-digits"
CLASSES = ["one", "two", "zero"]  # the zip's class folders, in the order the import gives them


@pytest.fixture(scope="module")
def own_app(tmp_path_factory, browser):
    """(base URL, data folder, models folder) of an app whose data folder holds no dataset of anyone's."""
    data, models = tmp_path_factory.mktemp("browser-data"), tmp_path_factory.mktemp("browser-own-models")
    environment = {**os.environ, "MNISTLIB_SUBSET": "small", "MNISTLIB_DATA_DIR": str(data),
                   "MNISTLIB_MODELS_DIR": str(models)}
    output = REPO / "tests" / "output"
    output.mkdir(exist_ok=True)
    server, url = start_app("app.py", environment, output / "browser-own-data-server.log")
    # The first visit of a freshly started server, if it asks for a page by its path, gets Streamlit's "Page not
    # found" dialog (st.navigation has not run yet): the first visit here is the home page.
    first = browser.new_page()
    open_page(first, url)
    first.close()
    yield url, data, models
    stop_app(server)


@pytest.fixture(scope="module")
def photo_zip(tmp_path_factory):
    """Three classes of MNIST digits photographed at random sizes (40 to 700 px) in five formats, and a README."""
    path = tmp_path_factory.mktemp("upload") / "our_digits.zip"
    path.write_bytes(make_zip(digit_zip(extra={"digits/README.txt": b"Digits we photographed"})))
    return path


def upload(tab, url, photo_zip) -> None:
    """Add the zip as NAME through the page, as a student does."""
    open_page(tab, url, "Your_data")
    give_name(tab, "Photo Class")
    tab.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(photo_zip))
    tab.get_by_text("our_digits.zip").wait_for(timeout=30_000)
    settle(tab)
    tab.get_by_label("Name", exact=True).fill(NAME)
    tab.get_by_label("Name", exact=True).press("Enter")
    settle(tab)
    add = tab.get_by_role("button", name="Add the dataset")
    expect(add).to_be_enabled(timeout=30_000)
    add.click()
    tab.get_by_text(re.compile("Added .*from our_digits.zip")).wait_for(timeout=180_000)
    settle(tab)


def test_a_zip_of_photographed_digits_becomes_a_dataset(page, own_app, photo_zip, monkeypatch):
    url, data_folder, _ = own_app
    upload(page, url, photo_zip)
    metrics = page.locator('[data-testid="stMetricValue"]')
    expect(metrics).to_have_text(["3", "48", "12"])
    expect(page.get_by_text("made here: 20% of every class held out as the test set")).to_be_visible()
    expect(page.get_by_text(re.compile("dark ink on a light background in 60, inverted to white on black"))) \
        .to_be_visible()
    expect(page.get_by_text("dark on light: inverted")).to_have_count(3)  # one before/after pair per class
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(f"Dataset: {NAME}")
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(data_folder))
    assert datasets.info(NAME).class_names == tuple(CLASSES) and datasets.info(NAME).added_by == "Photo Class"
    page.get_by_text("Dark on light, or light on dark?").scroll_into_view_if_needed()  # for the screenshot
    settle(page)


def test_train_it_and_browse_its_mistakes(page, own_app, photo_zip, monkeypatch):
    url, data_folder, models_folder = own_app
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(data_folder))
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(models_folder))
    if NAME not in datasets.available():  # run on its own
        upload(page, url, photo_zip)
    # The Train page, on the new dataset (a student gives a name first: kept by the browser).
    open_page(page, url, "Train", dataset=NAME)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_contain_text(f"Dataset: {NAME}")
    expect(sidebar.get_by_text(re.compile("^You: ")).or_(sidebar.get_by_role("button", name="Save my name"))) \
        .to_be_visible(timeout=30_000)  # who you are, or the name form
    if sidebar.get_by_role("button", name="Save my name").count():
        give_name(page, "Photo Trainer")  # another student (a name is held by one browser)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled(timeout=30_000)
    click_train(page)
    page.wait_for_selector("text=Test accuracy", timeout=240_000)
    settle(page)
    [card] = store.list_models(NAME)
    assert card.dataset == NAME and card.test_size == 12
    predicted = store.load_probabilities(card.id)[-1].argmax(axis=1)
    labels = datasets.load(NAME).y_test
    # The Mistakes page: a 3×3 matrix; a click on a cell opens its images.
    wrong = np.flatnonzero(predicted != labels)
    true_class, predicted_class = (int(labels[wrong[0]]), int(predicted[wrong[0]])) if len(wrong) else (0, 0)
    expected = int(np.sum((labels == true_class) & (predicted == predicted_class)))
    # Opened on another cell, so that the click is what opens this one.
    open_page(page, url, "Mistakes", dataset=NAME, true=true_class, pred=(predicted_class + 1) % 3)
    plot = page.locator('[data-testid="stPlotlyChart"]').first
    plot.scroll_into_view_if_needed()
    plot.locator(".scatterlayer .point").nth(8).wait_for(state="attached")
    expect(plot.locator(".scatterlayer .point")).to_have_count(9)
    page.wait_for_timeout(500)
    cell = plot.locator(".scatterlayer .point").nth(true_class * 3 + predicted_class)
    cell.hover(force=True)
    expect(page.locator(".hoverlayer .hovertext")).to_contain_text(
        f"true {CLASSES[true_class]} → predicted {CLASSES[predicted_class]}")
    cell.click(force=True)
    page.mouse.move(5, 5)
    gallery = page.get_by_text(re.compile(f"test images are {CLASSES[true_class]} predicted as "
                                          f"{CLASSES[predicted_class]}"))
    expect(gallery).to_be_visible()
    settle(page)
    assert gallery.inner_text().startswith(f"{expected} test images are")
    assert f"true={true_class}" in page.url and f"pred={predicted_class}" in page.url
    expect(page.get_by_text(re.compile(r"#\d+ · confidence"))).to_have_count(expected)
