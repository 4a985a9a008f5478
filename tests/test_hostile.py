"""A sweep of generated bad inputs through the pages: each gets a clear message, nothing breaks or changes.

Uploads go through the Draw page's uploader and values through the query parameters every page reads,
driven by Streamlit's AppTest (the browser tests check a few of the same in Chromium).
"""

import hashlib
import io
import re

import numpy as np
import pytest
from PIL import Image

from mnistlib import config, datasets, names, store, students
from tests.page_runs import TEXT_KINDS, run_page, texts
from tests.test_dask_own_data import shapes_arrays
from tests.test_pages import in_page_browser
from tests.test_user_datasets import train_and_store

PAGES = ["app_pages/home.py", "app_pages/dataset.py", "app_pages/train.py", "app_pages/predict.py", "app_pages/mistakes.py",
         "app_pages/draw.py", "app_pages/compare.py", "app_pages/insight.py"]


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def store_fingerprint() -> str:
    """A digest of every file in the model store (names and bytes), but SQLite's write-ahead log and shared-memory
    index of the store's index, which SQLite itself updates when the index is only read."""
    digest = hashlib.sha256()
    for path in sorted(config.models_dir().rglob("*")):
        if path.is_file() and not path.name.endswith(("-wal", "-shm")):
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def encoded(image: Image.Image, format="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def bad_uploads() -> list[tuple[str, bytes]]:
    """Files that are not usable images: empty, cut short, disguised, random, enormous."""
    generator = np.random.default_rng(0)
    digit = Image.fromarray(generator.integers(0, 255, (64, 64), dtype=np.uint8))
    png, jpeg = encoded(digit), encoded(digit, "JPEG")
    uploads = [("zero.png", b"")]
    uploads += [(f"cut-{cut}.png", png[:cut]) for cut in range(8, len(png) - 20, max(1, len(png) // 30))][:30]
    uploads += [(f"cut-{cut}.jpg", jpeg[:cut]) for cut in range(4, len(jpeg) - 200, max(1, len(jpeg) // 30))][:30]
    uploads += [(f"text-{n}.png", f"line {n}\n".encode() * (n + 1)) for n in range(10)]
    uploads += [(f"pdf-{n}.png", b"%PDF-1." + str(n).encode() + b"\n1 0 obj<<>>endobj\n%%EOF") for n in range(8)]
    uploads += [(f"random-{n}.png", generator.bytes(int(generator.integers(1, 5000)))) for n in range(20)]
    uploads.append(("huge.png", encoded(Image.new("1", (20000, 20000)))))
    return uploads


def odd_but_valid_uploads() -> list[tuple[str, bytes]]:
    """Unusual images that must still work: animation, 16-bit, palette, transparency."""
    frames = [Image.fromarray(np.full((28, 28), value, np.uint8)) for value in (0, 255)]
    frames[0].paste(255, (10, 4, 18, 24))
    animated = io.BytesIO()
    frames[0].save(animated, format="GIF", save_all=True, append_images=frames[1:])
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[5:35, 18:22] = [0, 0, 0, 255]
    return [("animated.gif", animated.getvalue()),
            ("deep.png", encoded(Image.fromarray((np.arange(784).reshape(28, 28) * 83).astype(np.uint16)))),
            ("palette.png", encoded(frames[0].convert("P"))), ("clear.png", encoded(Image.fromarray(rgba)))]


@pytest.fixture(scope="module")
def draw_page(stored_mnist_model):
    return run_page("app_pages/draw.py", query={"model": stored_mnist_model.id})


def upload(app, name, content):
    app.file_uploader(key="draw_upload").set_value((name, content, "image/png"))
    app.run()
    assert not app.exception, (name, app.exception)
    return app


@pytest.mark.parametrize("name, content", bad_uploads(), ids=lambda value: value if isinstance(value, str) else "")
def test_bad_upload_gets_one_clear_message(draw_page, name, content):
    before = store_fingerprint()
    app = upload(draw_page, name, content)
    assert len(app.error) == 1 and app.error[0].value.endswith("."), name
    assert not any(m.value.startswith("### Predicted") for m in app.markdown)
    assert store_fingerprint() == before


@pytest.mark.parametrize("name, content", odd_but_valid_uploads(), ids=lambda v: v if isinstance(v, str) else "")
def test_unusual_images_still_get_a_prediction(draw_page, name, content):
    app = upload(draw_page, name, content)
    assert not app.error and any(m.value.startswith("### Predicted") for m in app.markdown), name


BAD_INDICES = ["-1", "10000", "200", "abc", "", " ", "1e9", "0x10", "NaN", "inf", "-0.5", "3.7", "../1",
               "%00", "9" * 40, "<script>", "1;2", "\u0661", "null", "[]"]
BAD_DATASETS = ["cifar10", "", "MNIST", "../mnist", "mnist ", "fashion-mnist", "%2e%2e", "x" * 300,
                "mnist\x00", "None"]
BAD_MODELS = ["../x", "../../etc/passwd", "/etc/passwd", "", "20261124-201500-3fa9c2", "20261124-201500-3FA9C2",
              "..", "model", "20261124-201500-3fa9c2/../../x", "\u202e"]


@pytest.mark.parametrize("value", BAD_INDICES)
def test_bad_image_index_links(stored_mnist_model, value):
    app = run_page("app_pages/predict.py", query={"model": stored_mnist_model.id, "image": value})
    index = in_page_browser(app)[0]["image"]  # the view the in-page browser starts at
    assert 0 <= index < 200
    if value not in ("3",):
        assert "is not a test image number" in texts(app) or value.strip().isdigit()


# Every page reads ?dataset= through the same function (url_choices.chosen_dataset): every bad value on one page, and two
# on every page for its wiring.
DATASET_CASES = ([("app_pages/dataset.py", value) for value in BAD_DATASETS]
                 + [(path, value) for path in PAGES if path != "app_pages/dataset.py" for value in ("cifar10", "../mnist")])
# Likewise ?model= (loaders.current_model_card): every bad value on Predict, two on each other page that opens a model.
MODEL_CASES = ([("app_pages/predict.py", value) for value in BAD_MODELS]
               + [(path, value) for path in ("app_pages/mistakes.py", "app_pages/draw.py", "app_pages/insight.py")
                  for value in ("../../etc/passwd", "20261124-201500-3fa9c2")])


@pytest.mark.parametrize("path, value", DATASET_CASES)
def test_bad_dataset_links(stored_mnist_model, path, value):
    before = store_fingerprint()
    app = run_page(path, query={"dataset": value})
    assert "does not exist here" in texts(app)
    assert app.query_params["dataset"] == "mnist"
    assert store_fingerprint() == before


@pytest.mark.parametrize("path, value", MODEL_CASES)
def test_bad_model_links(stored_mnist_model, path, value):
    before = store_fingerprint()
    app = run_page(path, query={"model": value})
    assert "is not stored here" in texts(app) or value == ""
    assert app.query_params.get("model") != value or value == ""
    assert store_fingerprint() == before


@pytest.mark.parametrize("true, pred", [("-1", "3"), ("10", "0"), ("a", "b"), ("", ""), ("1.5", "2"),
                                        ("3", "99"), ("../", "0"), ("0x1", "1")])
def test_bad_confusion_cell_links(stored_mnist_model, true, pred):
    app = run_page("app_pages/mistakes.py", query={"model": stored_mnist_model.id, "true": true, "pred": pred})
    assert "not two class numbers" in texts(app)


@pytest.mark.parametrize("value", ["../../etc", "abc", "0" * 12, "", "ffffffffffff", "<b>x</b>"])
def test_bad_job_links(value):
    app = run_page("app_pages/train.py", query={"job": value})
    assert "no longer running" in texts(app) or value == ""


## Markup stays text: a hostile dataset, hostile class names, a model name and a student named like a web address


HOSTILE_TITLE = "**Markup** [link](https://e.ex/x) <b>b</b> https://e.ex/y"  # 57: titles are at most 60
HOSTILE_CLASSES = ("**Ring** [r](https://e.ex/r)", "<b>bar</b> www.e.ex", "cross x@e.ex")
HOSTILE_STUDENT = "https://e.ex/you.html"
HOSTILE_MODEL = "www.e.ex/model **m**"
EVERY_PAGE = ["home", "dataset", "own_data", "train", "predict", "mistakes", "draw", "compare", "insight", "board"]


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """A data folder with a 3-class dataset whose title and class names are markup, and a model trained on it by
    a student whose name is a web address; yields (student, model card)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNISTLIB_SUBSET", "small")
        patch.setenv("MNISTLIB_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        patch.setenv("MNISTLIB_MODELS_DIR", str(tmp_path_factory.mktemp("models")))
        student, _ = students.register(HOSTILE_STUDENT)
        datasets.add("hostile", shapes_arrays(np.random.default_rng(0)), HOSTILE_CLASSES, title=HOSTILE_TITLE,
                     added_by=student)
        card = train_and_store("hostile", student, epochs=1, seed=1)
        store.ownership.rename(card.id, student, HOSTILE_MODEL)
        yield student, card


def markdown_strings(app) -> list[str]:
    """Every string the page hands to Streamlit's Markdown: text elements, headings, widget labels, radio options."""
    strings = [element.value for kind in (*TEXT_KINDS, "subheader", "header", "title") for element in
               getattr(app, kind)]
    for kind in ("button", "radio", "checkbox", "toggle", "selectbox", "text_input", "number_input", "slider",
                 "select_slider", "expander", "tabs"):
        strings += [widget.label for widget in getattr(app, kind)]
    strings += [str(option) for radio in app.radio for option in radio.options]
    return strings


@pytest.mark.parametrize("page", EVERY_PAGE)
def test_a_hostile_dataset_and_names_stay_text_on_every_page(hostile_class, page):
    student, card = hostile_class
    app = run_page(f"app_pages/{page}.py", session={"actor": student, "dataset": "hostile", "model": card.id})
    strings = markdown_strings(app)
    shown = " ".join(strings)
    assert names.as_text(HOSTILE_TITLE) in shown  # the sidebar's "Dataset:" line at least, escaped
    assert f"**You:** {names.as_text(HOSTILE_STUDENT)}" in shown
    for string in strings:
        for markup in ("**Markup**", "[link](", "<b>", "**Ring**", "[r](", "**m**"):
            assert markup not in string, (page, string)
        # What remark-gfm's autolink literal sees (the text after escapes are undone) holds no address.
        undone = re.sub(r"\\(.)", r"\1", string)
        if "e.ex" in undone:
            assert not re.search(r"(?i)https?://|www\.|[\w.+-]@", undone), (page, string)
