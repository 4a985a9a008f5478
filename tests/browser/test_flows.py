"""The flows a class clicks through, in real Chromium against the running app."""

import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from mnistlib import datasets, store
from tests.browser.conftest import click_train, give_name, open_page, settle


def stored_models(models_folder, monkeypatch):
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(models_folder))
    return store.list_models()


@pytest.fixture(scope="session")
def trained(app_server, browser):
    """Quick start through the home page: the default model trained on the small MNIST subset."""
    url, models_folder = app_server
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    open_page(tab, url)
    give_name(tab, "Quick Starter")
    tab.get_by_role("button", name=re.compile("Quick start")).click()
    tab.wait_for_selector("text=Test accuracy", timeout=180_000)
    settle(tab)
    tab.screenshot(path=str(app_server[1].parent / "quick-start.png"))
    tab.close()
    import os

    previous = os.environ.get("MNISTLIB_MODELS_DIR")
    os.environ["MNISTLIB_MODELS_DIR"] = str(models_folder)
    try:
        cards = store.list_models()
        probabilities = store.load_probabilities(cards[0].id)[-1]
    finally:
        os.environ["MNISTLIB_MODELS_DIR"] = previous or ""
    return cards[0], probabilities


def test_quick_start_train_and_browse(page, app_server, trained):
    url, _ = app_server
    card, probabilities = trained
    open_page(page, url, "Predict", model=card.id)
    data = datasets.load("mnist", subset="small")
    for step in range(1, 4):
        page.get_by_role("button", name=re.compile("Next")).click()
        expect(page.get_by_role("spinbutton", name="Test image index i")).to_have_value(str(step))
    settle(page)
    index = 3
    expect(page.locator("h3", has_text="Predicted:")).to_have_text(f"Predicted: {int(np.argmax(probabilities[index]))}")
    # The figure's line (the caption below it defines confidence, capitalised, and is not this line).
    expect(page.get_by_text(re.compile(r"^confidence [\d.]+%"))).to_contain_text(f"true label {data.y_test[index]}")
    expect(page.locator("svg.chart .bars path")).to_have_count(10)  # the histogram is drawn


def test_stop_in_the_middle_of_training(page, app_server):
    url, _ = app_server
    open_page(page, url, "Train")
    give_name(page, "Stopper")
    page.get_by_text("CNN", exact=True).click()  # slower per epoch than the Dense network: time to press Stop
    settle(page)
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("50")
    epochs.press("Enter")
    settle(page)
    click_train(page)
    page.wait_for_selector("text=/Epoch [3-9]\\/50/", timeout=120_000)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_selector("text=Stopped. The model as of epoch", timeout=60_000)
    settle(page)


def test_switch_dataset(page, app_server):
    url, _ = app_server
    open_page(page, url, "Dataset")
    page.get_by_text("Fashion-MNIST", exact=True).first.click()
    page.wait_for_selector("text=Ankle boot", timeout=30_000)
    settle(page)
    expect(page).to_have_url(re.compile("dataset=fashion_mnist"))
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Fashion-MNIST")


def test_mistakes_cell_click_opens_the_gallery(page, app_server, trained):
    url, _ = app_server
    card, probabilities = trained
    data = datasets.load("mnist", subset="small")
    predicted = probabilities.argmax(axis=1)
    open_page(page, url, "Mistakes", model=card.id, true="0", pred="0")
    true_class, predicted_class = 4, 9
    expected = int(np.sum((data.y_test == true_class) & (predicted == predicted_class)))
    plot = page.locator('[data-testid="stPlotlyChart"]').first
    plot.scroll_into_view_if_needed()
    plot.locator(".scatterlayer .point").nth(99).wait_for(state="attached")  # the clickable cells are drawn
    settle(page)  # and Streamlit is quiet (was a fixed 500 ms wait)
    gallery = page.get_by_text(re.compile(f"test images are {true_class} predicted as {predicted_class}"))
    # One invisible marker sits on each cell, in row order: the (true, predicted) cell is marker true*10+pred.
    cell = plot.locator(".scatterlayer .point").nth(true_class * 10 + predicted_class)
    cell.hover(force=True)
    expect(page.locator(".hoverlayer .hovertext")).to_contain_text(f"true {true_class} → predicted {predicted_class}")
    cell.click(force=True)
    page.mouse.move(5, 5)
    expect(gallery).to_be_visible()  # the shared 30 s default (conftest), not 10 s
    settle(page)
    assert gallery.inner_text().startswith(f"{expected} test images are")
    assert "true=4" in page.url and "pred=9" in page.url


def test_draw_a_seven(page, app_server, trained):
    url, _ = app_server
    open_page(page, url, "Draw", model=trained[0].id)
    canvas = page.locator("canvas").last
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 60, y + 60)
    page.mouse.down()
    for step in range(10):
        page.mouse.move(x + 60 + 16 * step, y + 60)
    for step in range(12):
        page.mouse.move(x + 220 - 8 * step, y + 60 + 15 * step)
    page.mouse.up()
    page.wait_for_selector("h3:has-text('Predicted:')", timeout=30_000)
    expect(page.locator('[data-testid="stPlotlyChart"] .bars path')).to_have_count(10, timeout=30_000)


def upload(page, name: str, content: bytes) -> None:
    page.get_by_role("tab", name=re.compile("Upload")).click()
    page.locator('input[type="file"]').set_input_files(files=[{"name": name, "mimeType": "image/png",
                                                               "buffer": content}])
    settle(page)


def test_upload_a_png(page, app_server, trained):
    url, _ = app_server
    card, probabilities = trained
    data = datasets.load("mnist", subset="small")
    margins = np.sort(probabilities, axis=1)[:, -1] - np.sort(probabilities, axis=1)[:, -2]
    index = int(np.argmax(margins))  # a clear-cut image, so rounding cannot flip the answer
    buffer = io.BytesIO()
    Image.fromarray(data.x_test[index]).save(buffer, format="PNG")
    open_page(page, url, "Draw", model=card.id)
    upload(page, "digit.png", buffer.getvalue())
    expect(page.locator("h3", has_text="Predicted:").last).to_have_text(
        f"Predicted: {int(np.argmax(probabilities[index]))}", timeout=30_000)
    expect(page.get_by_text("already in MNIST form")).to_be_visible()


@pytest.mark.parametrize("name, content", [("notes.png", b"not an image at all\n" * 20),
                                           ("paper.png", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")],
                         ids=["text-file", "pdf-file"])
def test_upload_a_non_image(page, app_server, trained, name, content):
    url, _ = app_server
    open_page(page, url, "Draw", model=trained[0].id)
    upload(page, name, content)
    page.wait_for_selector("text=not an image that can be read", timeout=30_000)
    assert page.locator("h3", has_text="Predicted:").count() == 0
    page.get_by_role("tab", name=re.compile("Draw")).click()  # the page keeps working
    assert page.locator("canvas").count() > 0


def test_a_shared_link_opens_the_same_view(page, app_server, trained):
    url, _ = app_server
    card, _ = trained
    open_page(page, url, "Predict", dataset="mnist", model=card.id, image="7")
    expect(page.get_by_role("spinbutton", name="Test image index i")).to_have_value("7", timeout=30_000)
    expect(page.get_by_text("x_test[7] — what the model sees")).to_be_visible()
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(card.name)
