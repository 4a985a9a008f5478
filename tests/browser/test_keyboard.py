"""The main flow with the keyboard alone, in real Chromium: give a name, quick start, browse the test images in the
in-page browser, choose a confusion cell with the two select boxes, open one of its images on Predict. No mouse:
only Tab, Shift+Tab, Enter, Space, arrow keys and typing (and addresses opened, as a student types them). Every
control reached must show where the focus is."""

import re
from urllib.parse import parse_qs, urlparse

import numpy as np
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from mnistlib import datasets, evaluation, store
from tests.browser.conftest import open_page, settle
from tests.test_ui_insight import png, train_with_map

TAB_LIMIT = 250  # more Tab presses than any page has controls before the one sought

# The element that has the focus, inside shadow roots too (the components draw in their own).
FOCUSED = """() => { let active = document.activeElement;
  while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
  return active; }"""

# What draws a focus indicator on an element and its four nearest ancestors (Streamlit rings the widget's frame,
# not the <input> inside it; the browser rings a button itself).
LOOK = """element => { const look = [];
  for (let node = element, level = 0; node && node.nodeType === 1 && level < 5; node = node.parentElement, level++) {
    const style = getComputedStyle(node);
    look.push([style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow, style.borderColor,
               style.backgroundColor].join(" "));
  }
  return look.join(" | "); }"""


# Two frames drawn: the styles of the focus change applied (transitions are off, see keyboard_page).
DRAWN = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def keyboard_page(page):
    """The tab, asking for reduced motion as many keyboard users' systems do: Streamlit's focus rings then appear
    without their 0.2 s transition (dashboard/accessibility.css), so the look read after a key press is the final."""
    page.emulate_media(reduced_motion="reduce")
    return page


def focused_is(page, element) -> bool:
    focused = page.evaluate_handle(FOCUSED)
    return page.evaluate("([element, focused]) => element === focused || element.contains(focused)",
                         [element, focused])


def changed_from(page, element, look: str, seconds: float = 5) -> None:
    """Wait until element's look differs from look (returns at the deadline as well: the caller's assert says)."""
    try:
        page.wait_for_function(f"([element, look]) => ({LOOK})(element) !== look", arg=[element, look],
                               timeout=seconds * 1000)
    except PlaywrightTimeoutError:
        pass


def tab_to(page, target, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until target (a locator) has the focus; then check that the focus is visible: the
    control looks different with the focus than after Shift+Tab moved it back (and Tab brings it there again)."""
    element = target.element_handle(timeout=60_000)  # as open_page: a loaded machine draws a page slowly
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if focused_is(page, element):
            focused = page.evaluate_handle(FOCUSED)
            page.evaluate(DRAWN)
            with_focus = page.evaluate(LOOK, focused)
            # Back, then forward again: the last control of a page would send Tab out of the document, and a page
            # without the focus opens no file dialog. Some rings are drawn by React after the focus event, which a
            # loaded machine may draw a few frames late: wait for the look to change, each way.
            page.keyboard.press("Shift+Tab")
            changed_from(page, focused, with_focus)
            without_focus = page.evaluate(LOOK, focused)
            page.keyboard.press("Tab")
            changed_from(page, focused, without_focus)
            with_focus = page.evaluate(LOOK, focused)
            assert with_focus != without_focus, f"the focus on {target} is not visible: {with_focus}"
            assert focused_is(page, element), f"Tab did not come back to {target}"
            return
    raise AssertionError(f"{target} was not reached with {TAB_LIMIT} presses of Tab")


def choose(page, select_box, option: str) -> None:
    """A Streamlit select box by keyboard: Tab to it, type to filter its options, Enter takes the first match."""
    tab_to(page, select_box)
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    settle(page)


def stored_model(page, models_folder, monkeypatch):
    """The model the Train page shows (its ?model=), with its last epoch's test probabilities: the browser tests
    share one server, so its store may hold other tests' models too."""
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(models_folder))
    expect(page).to_have_url(re.compile(r"[?&]model="))
    model_id = parse_qs(urlparse(page.url).query)["model"][0]
    card = store.load_card(model_id)
    return card, store.load_probabilities(card.id)[-1]


def test_the_main_flow_by_keyboard_alone(page, app_server, monkeypatch):
    url, models_folder = app_server
    page = keyboard_page(page)
    open_page(page, url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    tab_to(page, sidebar.get_by_role("textbox", name="Your name"))
    page.keyboard.type("Kim Keys")
    tab_to(page, sidebar.get_by_role("button", name="Save my name"))
    page.keyboard.press("Enter")
    expect(sidebar).to_contain_text("You: Kim Keys")
    settle(page)

    tab_to(page, page.get_by_role("button", name=re.compile("^Quick start")))
    page.keyboard.press("Space")
    page.wait_for_selector("text=Test accuracy", timeout=180_000)
    settle(page)
    card, probabilities = stored_model(page, models_folder, monkeypatch)
    data = datasets.load("mnist", subset="small")

    # Browse: Next by Enter, then the arrow keys (the page's own shortcut) once the focus left the text boxes.
    open_page(page, url, "Predict", model=card.id)
    picture = page.get_by_role("img", name=re.compile("^Test image 0 of 200:"))
    expect(picture).to_have_attribute("aria-label", re.compile(f"true {data.y_test[0]}, predicted "
                                                               f"{int(np.argmax(probabilities[0]))}, "))
    tab_to(page, page.get_by_role("button", name="Next ▶"))
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(page.get_by_role("spinbutton", name="Test image index i")).to_have_value("2")
    page.keyboard.press("ArrowRight")  # on a button, not in a text box: the browser's shortcut moves on
    expect(page.get_by_role("spinbutton", name="Test image index i")).to_have_value("3")
    confidence = f"{100 * probabilities[3].max():.1f}%"
    expect(page.get_by_role("img", name=re.compile("^Test image 3 of 200:"))).to_have_attribute(
        "aria-label", f"Test image 3 of 200: true {data.y_test[3]}, predicted {int(np.argmax(probabilities[3]))}, "
                      f"{confidence} confident")

    # A confusion cell: the two select boxes beside the heatmap open the gallery a click opens.
    predicted = probabilities.argmax(axis=1)
    true_class = predicted_class = 1
    cell = evaluation.indices_for_cell(data.y_test, predicted, true_class, predicted_class)
    assert len(cell) > 2  # ones are the easiest digit: the model gets several right
    open_page(page, url, "Mistakes", model=card.id)
    main = page.locator('[data-testid="stMain"]')
    choose(page, main.get_by_role("combobox", name=re.compile("^True class")), str(true_class))
    choose(page, main.get_by_role("combobox", name=re.compile("^Predicted class")), str(predicted_class))
    expect(page.get_by_text(re.compile(f"^{len(cell)} test images are {true_class} predicted as "
                                       f"{predicted_class}"))).to_be_visible()
    assert "true=1" in page.url and "pred=1" in page.url

    # One of its images, opened on Predict: the third, chosen in the select box, then its link.
    # Typed "#12" matches "Test image #12" first: the others it matches (#120…) have larger numbers, listed later.
    choose(page, main.get_by_role("combobox", name="Open one of these images"), f"#{cell[2]}")
    link = page.get_by_role("link", name=f"Open test image #{cell[2]} on the Predict page")
    tab_to(page, link)
    page.keyboard.press("Enter")
    expect(page.get_by_role("spinbutton", name="Test image index i")).to_have_value(str(cell[2]))
    expect(page).to_have_title("Predict · MNIST Lab")


def test_draw_by_keyboard_is_an_upload(page, app_server, monkeypatch):
    """Draw's canvas needs a pointer; its Upload tab is the keyboard's way in, as the page says: the tabs by arrow
    keys, its Upload button by Enter, and the file chosen in the dialog it opens."""
    url, models_folder = app_server
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(models_folder))
    card, _ = train_with_map(name="Model for drawing by keyboard")
    page = keyboard_page(page)
    data = datasets.load("mnist", subset="small")
    open_page(page, url, "Draw", model=card.id)
    expect(page.get_by_text("Without a mouse or touch screen, use the")).to_be_visible()
    tab_to(page, page.get_by_role("tab", name=re.compile("Draw")))
    page.keyboard.press("ArrowRight")  # to the Upload tab (a tab list moves by arrow keys)
    page.keyboard.press("Enter")
    expect(page.get_by_role("tab", name=re.compile("Upload"))).to_have_attribute("aria-selected", "true")
    browse = page.locator('[data-testid="stFileUploader"]').get_by_role("button", name="Upload", exact=True)
    for attempt in range(3):  # a rerun that lands between the focus and the key takes the focus: focus it again
        tab_to(page, browse)
        try:
            with page.expect_file_chooser(timeout=20_000) as chooser:
                page.keyboard.press("Enter")
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    chooser.value.set_files(files=[{"name": "seven.png", "mimeType": "image/png", "buffer": png(data.x_test[0])}])
    expect(page.locator("h3", has_text="Predicted:").last).to_be_visible()
