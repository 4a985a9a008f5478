"""The "Your data" page through AppTest: a zip and an .npz become datasets with a report; every bad input of
issue 15 is one clear message with nothing stored; removing a dataset follows who added it and whether models use it."""

import io
import re
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnistlib import datasets, store
from tests import page_runs
from tests.test_importing import digit_zip, encoded, make_zip, npz_bytes, png_header
from tests.test_user_datasets import train_and_store

ADA, BEN = store.Actor("ada", "Ada"), store.Actor("ben", "Ben")


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch, models_dir):
    """An empty data folder and model store; the small subset."""
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def run_page(actor=ADA) -> AppTest:
    return page_runs.run_page("app_pages/own_data.py", session={"actor": actor} if actor is not None else None)


def upload(app: AppTest, filename: str, content: bytes, name: str, percent: int | None = None) -> AppTest:
    """Choose a file and a name (and a test share), then press Add."""
    app.file_uploader(key="own_data_file").upload(filename, content)
    app.text_input(key="own_data_name").set_value(name)
    if percent is not None:
        app.slider(key="own_data_test_percent").set_value(percent)
    app.run()
    assert not app.exception, app.exception
    app.button(key="own_data_add").click().run()
    assert not app.exception, app.exception
    return app


def texts(app: AppTest, kind: str = "markdown") -> str:
    return " ".join(element.value for element in getattr(app, kind))


def plain(text: str) -> str:
    """Markdown with its escapes removed, as a student reads it."""
    return re.sub(r"\\(.)", r"\1", text)


## Uploads that work


def test_a_zip_of_photographed_digits_becomes_a_dataset_with_its_report(data_dir):
    content = make_zip(digit_zip(extra={"digits/README.txt": b"three photographed digits"}))
    app = upload(run_page(), "digits.zip", content, "photo-digits", percent=25)
    assert not app.error, texts(app, "error")
    assert "Added **photo\\-digits** (`photo-digits`)" in texts(app, "success")
    assert [metric.value for metric in app.metric] == ["3", "45", "15"]
    counts = app.dataframe[0].value
    assert counts["Class"].tolist() == ["0 · one", "1 · two", "2 · zero"]
    assert counts["Training images"].tolist() == [15, 15, 15] and counts["Test images"].tolist() == [5, 5, 5]
    shown = plain(texts(app))
    assert "made here: 25% of every class held out as the test set" in shown
    assert "dark ink on a light background in **60**, inverted to white on black" in shown
    assert "- README.txt" in shown
    captions = [caption for image in app.get("image") for caption in image.captions]
    assert sum("as uploaded" in caption for caption in captions) == 3, captions
    assert sum("dark on light: inverted" in caption for caption in captions) == 3
    # Stored, verified, recorded as Ada's, and chosen for every page.
    entry = datasets.info("photo-digits")
    assert entry.added_by == "Ada" and entry.source == "digits.zip"
    assert datasets.load("photo-digits").x_test.shape == (15, 28, 28)
    assert app.session_state["dataset"] == "photo-digits"
    assert "**Dataset:** photo-digits" in plain(texts(app))  # the sidebar, redrawn after the import


def test_an_npz_becomes_a_dataset_with_its_class_names(data_dir):
    data = datasets.load("mnist", subset="small")
    train, test = np.flatnonzero(data.y_train < 3)[:30], np.flatnonzero(data.y_test < 3)[:9]
    content = npz_bytes(x_train=data.x_train[train], y_train=data.y_train[train], x_test=data.x_test[test],
                        y_test=data.y_test[test], class_names=np.array(["nought", "one", "two"]))
    app = upload(run_page(), "digits.npz", content, "npz-digits")
    assert not app.error, texts(app, "error")
    assert [metric.value for metric in app.metric] == ["3", "30", "9"]
    assert "kept as the .npz file says" in plain(texts(app))
    assert "Dark on light, or light on dark?" not in [header.value for header in app.subheader]
    assert datasets.info("npz-digits").class_names == ("nought", "one", "two")


def test_without_a_name_or_a_file_nothing_can_be_added():
    app = run_page(actor=None)
    assert app.button(key="own_data_add").disabled
    assert "Type your name in the sidebar" in texts(app, "info")
    assert run_page().button(key="own_data_add").disabled  # no file yet


## Bad input: one clear sentence, nothing stored, the page keeps working


def zip_bomb() -> bytes:
    """A zip under 1 MB declaring 501 MB (zeros)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/1.png", b"x")
        with archive.open("b/zeros.png", "w", force_zip64=True) as file:
            for _ in range(501):
                file.write(bytes(1 << 20))
    return buffer.getvalue()


def with_symlink() -> bytes:
    link = zipfile.ZipInfo("zero/link.png")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in digit_zip(per_class=5, top="").items():
            archive.writestr(path, content)
        archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def class_folders(count: int, per_class: int = 5) -> bytes:
    blob = encoded(Image.fromarray(np.pad(np.full((10, 4), 255, np.uint8), 9)))
    return make_zip({f"class{folder}/{number}.png": blob for folder in range(count) for number in range(per_class)})


def small_digits(**extra) -> bytes:
    return make_zip({**digit_zip(per_class=5, top=""), **extra})


def three_class_arrays() -> dict:
    data = datasets.load("mnist", subset="small")
    train, test = np.flatnonzero(data.y_train < 3)[:30], np.flatnonzero(data.y_test < 3)[:9]
    return {"x_train": data.x_train[train], "y_train": data.y_train[train].astype(np.int64),
            "x_test": data.x_test[test], "y_test": data.y_test[test].astype(np.int64)}


BAD_INPUTS = {
    "zip bomb": (lambda: ("bomb.zip", zip_bomb()), "would expand to 525 MB; at most 500 MB are accepted (is it a "
                                                   "zip bomb?)"),
    "parent path": (lambda: ("evil.zip", small_digits(**{"../evil.png": b"x"})), "points outside the zip"),
    "absolute path": (lambda: ("evil.zip", small_digits(**{"/etc/evil.png": b"x"})), "points outside the zip"),
    "symbolic link": (lambda: ("links.zip", with_symlink()), "holds a symbolic link"),
    "nested zip": (lambda: ("nested.zip", small_digits(**{"zero/more.zip": small_digits()})),
                   "not a zip inside the zip"),
    "text named .png": (lambda: ("fake.zip", small_digits(**{"two/notes.png": b"just text"})),
                        "two/notes.png cannot be used: This file is not an image that can be read"),
    "0×0 image": (lambda: ("zero.zip", small_digits(**{"two/empty.png": png_header(0, 0)})),
                  "two/empty.png cannot be used"),
    "50,000×50,000 image": (lambda: ("huge.zip", small_digits(**{"two/huge.png": png_header(50_000, 50_000)})),
                            "two/huge.png cannot be used: The image is far too large"),
    "one class": (lambda: ("one.zip", class_folders(1)), "has 1 class folder (class0); a dataset needs 2 to 20"),
    "21 classes": (lambda: ("many.zip", class_folders(21)), "has 21 class folders (class0, class1, class2, …)"),
    "empty class": (lambda: ("empty.zip", small_digits(**{"empty/": b""})), "Class 'empty' has no images"),
    "mixed label types": (lambda: ("mixed.npz", npz_bytes(**{**three_class_arrays(), "y_test": np.linspace(0, 2, 9)})),
                          "y_test must be whole-number labels of shape (N,); it is float64"),
    "mixed label shapes": (lambda: ("mixed.npz", npz_bytes(**{**three_class_arrays(),
                                                              "y_train": three_class_arrays()["y_train"][:, None]})),
                           "y_train must be whole-number labels of shape (N,); it is int64 (30, 1)"),
    "pickled objects": (lambda: ("objects.npz", npz_bytes(**{**three_class_arrays(),
                                                             "y_test": three_class_arrays()["y_test"].astype(object)})),
                        "holds Python objects (an object array), which are not loaded for safety"),
    "not a zip": (lambda: ("fake.zip", b"just some text"), "fake.zip is not a zip file that can be read"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_files_get_one_clear_sentence_and_nothing_is_stored(case, data_dir):
    make, message = BAD_INPUTS[case]
    filename, content = make()
    app = upload(run_page(), filename, content, "my-data")
    assert len(app.error) == 1 and message in plain(app.error[0].value), texts(app, "error")
    assert not app.success and datasets.custom_names() == []
    assert not (data_dir / "custom").exists() or not any((data_dir / "custom").iterdir())  # no half-written folder
    # The page keeps working: a good file is added next.
    app.file_uploader(key="own_data_file").clear()
    upload(app, "digits.zip", small_digits(), "my-data")
    assert not app.error and datasets.custom_names() == ["my-data"]


def test_non_image_files_among_images_are_skipped_and_listed():
    app = upload(run_page(), "digits.zip", small_digits(**{"zero/notes.txt": b"a note", "list.csv": b"1,2"}),
                 "with-notes")
    assert not app.error
    assert "- list.csv" in plain(texts(app)) and "- zero/notes.txt" in plain(texts(app))
    assert any("Skipped 2 file(s)" in expander.label for expander in app.expander)


@pytest.mark.parametrize("name, message", [
    ("taken", "A dataset named 'taken' already exists; choose another name or remove it first"),
    ("TAKEN", "A dataset named 'taken' already exists"),
    ("mnist", "The name 'mnist' is taken by the built-in dataset mnist"),
    ("Fashion-MNIST", "is taken by the built-in dataset fashion_mnist"),
    ("a/b", "The name 'a/b' holds “/”, “\\” or “..”, but a name becomes a folder name"),
    ("../../etc", "holds “/”"),
    ("", "Give the dataset a name, e.g. my_digits."),
    ("My Digits", "a name is 1 to 40 lower-case letters, digits, - and _"),
])
def test_bad_and_taken_names_are_refused_before_the_file_is_read(name, message):
    datasets.add("taken", three_class_arrays(), ["0", "1", "2"])
    app = upload(run_page(), "digits.zip", small_digits(), name)
    assert len(app.error) == 1 and message in plain(app.error[0].value), texts(app, "error")
    assert datasets.custom_names() == ["taken"]


## The class's datasets, and who may remove them


def remove_buttons(app: AppTest) -> list[str]:
    return [button.key for button in app.button if str(button.key).startswith("own_data_remove_")]


def test_the_student_who_added_a_dataset_removes_it_and_others_cannot():
    datasets.add("adas", three_class_arrays(), ["0", "1", "2"], title="Ada's digits", added_by=ADA)
    assert remove_buttons(run_page(BEN)) == []
    assert "added by Ada" in texts(run_page(BEN))
    app = run_page(ADA)
    app.session_state["dataset"] = "adas"
    app.button(key="own_data_remove_adas").click().run()
    assert not app.exception, app.exception
    assert "Removed the dataset adas" in plain(texts(app, "success"))
    assert datasets.custom_names() == [] and app.session_state["dataset"] == "mnist"
    assert "None yet" in texts(app, "caption")


def test_once_a_model_uses_a_dataset_only_the_teacher_removes_it():
    datasets.add("adas", three_class_arrays(), ["0", "1", "2"], added_by=ADA)
    train_and_store("adas", BEN)
    app = run_page(ADA)
    assert remove_buttons(app) == [] and "1 stored model(s) trained on it" in texts(app)
    teacher = run_page(store.TEACHER)
    teacher.button(key="own_data_remove_adas").click().run()
    assert not teacher.exception and datasets.custom_names() == []


def test_a_refusal_checked_on_the_server_is_shown_and_changes_nothing():
    """A button pressed by a session that may not (e.g. a model was trained meanwhile): the library says no."""
    datasets.add("adas", three_class_arrays(), ["0", "1", "2"], added_by=ADA)
    app = run_page(ADA)
    train_and_store("adas", BEN)  # after the page was drawn with the button
    app.button(key="own_data_remove_adas").click().run()
    assert not app.exception
    assert "1 stored model was trained on this dataset, so only the teacher" in texts(app, "error")
    assert datasets.custom_names() == ["adas"]


def test_hostile_class_folders_and_file_names_stay_text_in_the_import_report():
    from tests.test_hostile import markdown_strings

    blob = encoded(Image.fromarray(np.pad(np.full((10, 4), 255, np.uint8), 9)))
    folders = ["**Ring** www.e.ex", "<b>bar", "cross x@e.ex"]  # a folder name cannot hold "/"
    files = {f"{folder}/{number}.png": blob for folder in folders for number in range(5)}
    files.update({"[n](x) www.e.ex.txt": b"a note", "**list** x@e.ex.csv": b"1,2"})
    app = upload(run_page(), "hostile.zip", make_zip(files), "hostile")
    assert not app.error
    assert datasets.info("hostile").class_names == tuple(sorted(folders))
    captions = [caption for image in app.get("image") for caption in image.captions]
    strings = markdown_strings(app) + captions
    assert sum("as uploaded" in caption for caption in captions) == 3, captions
    for string in strings:
        assert "**Ring**" not in string and "<b>" not in string and "[n](" not in string and "**list**" not in string
        undone = re.sub(r"\\(.)", r"\1", string)  # what remark-gfm's autolink literal sees
        assert not re.search(r"(?i)www\.|[\w.+-]@", undone), string
    assert "- \\[n\\]\\(x\\) www\u2060\\.e\\.ex\\.txt" in texts(app)  # the skipped files, listed as named
