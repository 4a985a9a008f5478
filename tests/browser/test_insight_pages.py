"""Inside the network in real Chromium: the explanation on Draw and Predict, the hidden-space map on Model insight,
the learning-rate finder on Train. Each explanation names the class the model's argmax gives."""

import os
import re

import numpy as np
import pytest
from playwright.sync_api import expect

from mnistlib import datasets, models, store
from tests.browser.conftest import SCREENSHOTS, give_name, open_page, settle
from tests.conftest import train_and_store
from tests.test_ui_insight import png, train_with_map

WHY = "Why this answer?"


@pytest.fixture(scope="module", autouse=True)
def first_visit(app_server, browser):
    """The home page first, as a class starts: a cold server asked for another page first shows "Page not found"."""
    tab = browser.new_page()
    open_page(tab, app_server[0])
    tab.close()


@pytest.fixture(scope="module")
def stored(app_server):
    """In the app's own store: a dense model with its per-epoch map, and a CNN trained one epoch (no map kept)."""
    _, models_folder = app_server
    previous = os.environ.get("MNISTLIB_MODELS_DIR")
    os.environ["MNISTLIB_MODELS_DIR"] = str(models_folder)
    try:
        dense, _ = train_with_map(name="Dense with a map")
        cnn = train_and_store("mnist", epochs=1, spec=models.ModelSpec(architecture="cnn", hidden_units=16, seed=1),
                              name="One-epoch CNN")
        saved = {"dense": (dense, store.load_model(dense.id)), "cnn": (cnn, store.load_model(cnn.id))}
    finally:
        os.environ["MNISTLIB_MODELS_DIR"] = previous or ""
    return saved


@pytest.fixture(scope="module")
def data():
    return datasets.load("mnist", subset="small")


def argmax_class(model, image, class_names) -> str:
    return class_names[int(np.argmax(model(image[None] / 255.0, training=False)[0]))]


def explained(page, within=None):
    """The "Predicted: NAME" the explanation writes in bold (the locator of its strong element)."""
    return (within or page).locator("strong", has_text=re.compile("^Predicted: ")).last


def open_explained(page, url, card, model, data, index: int, seconds: int = 60) -> None:
    """Open Predict on test image index with card's model, open "Why this answer?", and see it explain the model's
    own prediction for that image."""
    open_page(page, url, "Predict", model=card.id, image=str(index))
    page.get_by_text(WHY).click()
    expect(explained(page)).to_have_text(f"Predicted: {argmax_class(model, data.x_test[index], data.class_names)}",
                                         timeout=seconds * 1000)


def upload(page, content: bytes) -> None:
    page.get_by_role("tab", name=re.compile("Upload")).click()
    page.locator('input[type="file"]').set_input_files(files=[{"name": "digit.png", "mimeType": "image/png",
                                                               "buffer": content}])
    settle(page)


def test_draw_explains_an_upload(page, app_server, stored, data):
    url, _ = app_server
    card, model = stored["dense"]
    open_page(page, url, "Draw", model=card.id)
    upload(page, png(data.x_test[3]))
    expected = argmax_class(model, data.x_test[3], data.class_names)
    expect(page.locator("h3", has_text="Predicted:").last).to_have_text(f"Predicted: {expected}", timeout=60_000)
    expect(explained(page)).to_have_text(f"Predicted: {expected}", timeout=60_000)
    expect(page.get_by_text("Pushed toward", exact=False).first).to_be_visible()
    page.get_by_role("tab", name="Pixels (saliency)").last.click()
    expect(page.get_by_text("How to read it").last).to_be_visible()
    settle(page)


def test_draw_explains_a_drawing_and_a_blank_upload_gets_a_note(page, app_server, stored):
    url, _ = app_server
    card, _ = stored["dense"]
    open_page(page, url, "Draw", model=card.id)
    box = page.locator("canvas").last.bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 40)
    page.mouse.down()
    for step in range(14):
        page.mouse.move(box["x"] + 140, box["y"] + 40 + 15 * step)
    page.mouse.up()
    answer = page.locator("h3", has_text="Predicted:").first
    expect(answer).to_be_visible(timeout=60_000)
    expect(explained(page)).to_be_visible(timeout=60_000)
    settle(page)
    # The explanation and the page's prediction come from the same model and the same 28×28 input.
    assert explained(page).inner_text() == answer.inner_text()
    upload(page, png(np.zeros((28, 28))))
    expect(page.get_by_text("Nothing to recognise yet")).to_be_visible(timeout=30_000)


def test_predict_explains_the_current_image_and_follows_next(page, app_server, stored, data):
    url, _ = app_server
    card, model = stored["dense"]
    open_explained(page, url, card, model, data, index=5)
    page.get_by_role("button", name=re.compile("Next")).first.click()
    expect(page.get_by_role("spinbutton", name="Test image index i")).to_have_value("6")
    expect(explained(page)).to_have_text(f"Predicted: {argmax_class(model, data.x_test[6], data.class_names)}",
                                         timeout=60_000)
    settle(page)


def map_point(page, trace_name: str) -> tuple[float, float, int]:
    """Where on the screen a trace's point farthest from the others' centre is, and its test index."""
    return tuple(page.evaluate("""(name) => {
        const plot = [...document.querySelectorAll('.js-plotly-plot')]
            .find(element => element._fullData && element._fullData.some(trace => trace.type === 'scattergl'));
        // _fullData: the arrays as Plotly decoded them (the figure sends them as typed arrays, base64).
        const trace = plot._fullData.find(candidate => candidate.name === name);
        const xs = Array.from(trace.x), ys = Array.from(trace.y);
        const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
        const [mx, my] = [mean(xs), mean(ys)];
        let best = 0;
        xs.forEach((x, i) => { if ((x - mx) ** 2 + (ys[i] - my) ** 2 > (xs[best] - mx) ** 2 + (ys[best] - my) ** 2) best = i; });
        const layout = plot._fullLayout, box = plot.getBoundingClientRect();
        return [box.left + layout._size.l + layout.xaxis.l2p(xs[best]),
                box.top + layout._size.t + layout.yaxis.l2p(ys[best]), trace.customdata[best][0]];
    }""", trace_name))


def test_the_map_has_an_epoch_slider_and_a_click_opens_the_image(page, app_server, stored, data):
    url, _ = app_server
    card, _ = stored["dense"]
    open_page(page, url, "Model_insight", model=card.id)
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has=page.locator(".gl-container")).first
    chart.scroll_into_view_if_needed()
    expect(page.get_by_text("The axes are not pixels and not classes")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("after epoch 3", exact=False).first).to_be_visible()
    slider = page.get_by_role("slider", name="After epoch")
    slider.focus()
    slider.press("Home")
    expect(page.get_by_text(re.compile("placed by the 32 activations .* after epoch 1,"))).to_be_visible(timeout=30_000)
    settle(page)
    page.wait_for_timeout(500)  # WebGL draws after the chart's element is in place
    x, y, index = map_point(page, data.class_names[0])
    page.mouse.move(x, y)
    expect(page.locator(".hoverlayer")).to_contain_text(f"test image {index}")
    page.mouse.click(x, y)
    expect(page.get_by_text("1 image(s) selected")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"Open test image {index} on the Predict page")).to_be_visible()
    settle(page)
    # The lasso, from the chart's toolbar, around the middle of the map.
    chart.hover()
    chart.locator('[data-title="Lasso Select"]').click()
    area = chart.locator(".nsewdrag").first.bounding_box()
    corners = [(area["x"] + area["width"] * fx, area["y"] + area["height"] * fy)
               for fx, fy in ((0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8), (0.2, 0.2))]
    page.mouse.move(*corners[0])
    page.mouse.down()
    for corner in corners[1:]:
        page.mouse.move(*corner, steps=8)
    page.mouse.up()
    expect(page.get_by_text(re.compile(r"^([2-9]|\d\d+) image\(s\) selected"))).to_be_visible(timeout=30_000)
    settle(page)


def test_a_one_epoch_cnn_is_explained_and_mapped_with_notes(page, app_server, stored, data):
    url, _ = app_server
    card, model = stored["cnn"]
    open_explained(page, url, card, model, data, index=1, seconds=90)
    expect(page.get_by_text("trained for only one epoch")).to_be_visible()
    page.get_by_role("tab", name="Convolutions").click()
    expect(page.get_by_text("32 feature maps of 26×26")).to_be_visible(timeout=30_000)
    settle(page)
    page.screenshot(path=str(SCREENSHOTS / "cnn_explained_on_predict.png"), full_page=True)
    open_page(page, url, "Model_insight", model=card.id)
    expect(page.get_by_text("saved before MNIST Lab kept a map after every epoch")).to_be_visible(timeout=90_000)


def test_the_finder_runs_and_sets_the_learning_rate(page, app_server):
    url, _ = app_server
    open_page(page, url, "Train")
    give_name(page, "Rate Finder")
    rate = page.get_by_role("slider", name="Learning rate")
    rate.focus()
    for _ in range(4):  # 0.001 → 0.1, away from any suggestion a small Dense network gets
        rate.press("ArrowRight")
    settle(page)
    expect(rate).to_have_attribute("aria-valuetext", "0.1")
    page.get_by_text("Find a good learning rate").click()
    page.get_by_role("button", name="Find a learning rate").click()
    finder = page.locator(".st-key-lr_finder")
    expect(finder.locator('[data-testid="stProgress"]')).to_be_visible(timeout=30_000)
    use = page.get_by_role("button", name=re.compile("^Use learning rate"))
    expect(use).to_be_visible(timeout=180_000)
    settle(page)
    chosen = re.match(r"Use learning rate ([0-9.e-]+)", use.inner_text()).group(1)
    assert chosen != "0.1"
    use.click()
    expect(page.get_by_text(f"The learning rate above is now {chosen}")).to_be_visible(timeout=30_000)
    expect(rate).to_have_attribute("aria-valuetext", chosen)
    settle(page)
