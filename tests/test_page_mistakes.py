"""AppTest of the Mistakes page: confusion cells, most-confused pairs, per-class table, epochs and the CSV."""

import csv
import io
import re

import numpy as np
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from mnistlib import datasets, evaluation, names, store
from tests import page_runs
from tests.page_runs import texts

GALLERY_PAGE = 36  # the page shows a cell's images 36 at a time


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def run_page(query=None, session=None) -> AppTest:
    return page_runs.run_page("app_pages/mistakes.py", query, session)


def gallery_indices(app) -> list[int]:
    """Test-image indices in the cell gallery, read from captions like "#85 · confidence 43%"."""
    captions = [picture.caption for element in app.get("image") for picture in element.proto.imgs]
    return [int(match.group(1)) for caption in captions if (match := re.fullmatch(r"#(\d+) · confidence \d+%", caption))]


def cell_summary(app) -> str:
    return next(m.value for m in app.markdown if "test images are" in m.value)


def expected_cell(card, true_class, predicted_class):
    data = datasets.load(card.dataset, subset="small")
    predicted = evaluation.predicted_labels(store.load_probabilities(card.id)[-1])
    return data, predicted, evaluation.indices_for_cell(data.y_test, predicted, true_class, predicted_class)


def test_fresh_state_says_what_to_do(models_dir):
    app = run_page()
    assert "No trained model for MNIST digits yet" in texts(app)
    assert app.button(key="quick_start_missing_model")


def test_accuracy_is_the_stored_models(stored_mnist_model):
    app = run_page(query={"model": stored_mnist_model.id})
    data, predicted, _ = expected_cell(stored_mnist_model, 0, 0)
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Test accuracy"] == f"{evaluation.accuracy(data.y_test, predicted):.2%}"
    assert metrics[f"Wrong answers (of {len(data.y_test)})"] == str(int((predicted != data.y_test).sum()))


@pytest.mark.parametrize("true_class, predicted_class", [(6, 0), (6, 2), (0, 6), (6, 6)])
def test_select_boxes_open_exactly_the_cell(stored_fashion_model, true_class, predicted_class):
    # Shirt (6) against T-shirt/top (0) and Pullover (2): the confusions students should find.
    app = run_page(query={"dataset": "fashion_mnist", "model": stored_fashion_model.id})
    app.selectbox(key="mistakes_true").set_value(true_class)
    app.selectbox(key="mistakes_predicted").set_value(predicted_class)
    app.run()
    assert not app.exception
    data, _, expected = expected_cell(stored_fashion_model, true_class, predicted_class)
    true_name, predicted_name = (names.as_text(data.class_names[k]) for k in (true_class, predicted_class))
    assert cell_summary(app).startswith(f"**{len(expected)}** test images are **{true_name}** "
                                        f"predicted as **{predicted_name}**")  # T\-shirt/top: shown as text
    assert gallery_indices(app) == expected[:GALLERY_PAGE].tolist()
    assert app.query_params["true"] == str(true_class) and app.query_params["pred"] == str(predicted_class)


def test_a_link_opens_its_cell(stored_fashion_model):
    data, predicted, _ = expected_cell(stored_fashion_model, 0, 0)
    true_class, predicted_class, count = evaluation.most_confused(data.y_test, predicted, top=3)[-1]
    app = run_page(query={"dataset": "fashion_mnist", "model": stored_fashion_model.id,
                          "true": str(true_class), "pred": str(predicted_class)})
    expected = evaluation.indices_for_cell(data.y_test, predicted, true_class, predicted_class)
    assert len(expected) == count and gallery_indices(app) == expected[:GALLERY_PAGE].tolist()
    assert app.selectbox(key="mistakes_true").value == true_class
    assert app.selectbox(key="mistakes_predicted").value == predicted_class


def test_without_a_link_the_most_confused_cell_is_open(stored_mnist_model):
    app = run_page(query={"model": stored_mnist_model.id})
    data, predicted, _ = expected_cell(stored_mnist_model, 0, 0)
    true_class, predicted_class, count = evaluation.most_confused(data.y_test, predicted, top=1)[0]
    assert (app.selectbox(key="mistakes_true").value, app.selectbox(key="mistakes_predicted").value) == (
        true_class, predicted_class)
    assert len(gallery_indices(app)) == min(count, GALLERY_PAGE)


@pytest.mark.parametrize("true, pred", [("abc", "1"), ("3", "99"), ("-1", "2"), ("3", "")])
def test_bad_cell_links_warn_and_the_page_works(stored_mnist_model, true, pred):
    app = run_page(query={"model": stored_mnist_model.id, "true": true, "pred": pred})
    assert "is not two class numbers 0–9" in texts(app)
    assert cell_summary(app)


def test_most_confused_pairs_match_the_library_and_open_their_cell(stored_fashion_model):
    app = run_page(query={"dataset": "fashion_mnist", "model": stored_fashion_model.id})
    data, predicted, _ = expected_cell(stored_fashion_model, 0, 0)
    expected = evaluation.most_confused(data.y_test, predicted, top=8)
    buttons = [button for button in app.button if button.key.startswith("mistakes_pair_")]
    assert [button.key for button in buttons] == [f"mistakes_pair_{t}_{p}" for t, p, _ in expected]
    assert [button.label for button in buttons] == [
        f"{names.as_text(data.class_names[t])} → {names.as_text(data.class_names[p])}: {count}"
        for t, p, count in expected]
    for true_class, predicted_class, count in (expected[-1], expected[0]):
        app.button(key=f"mistakes_pair_{true_class}_{predicted_class}").click().run()
        assert not app.exception
        assert app.selectbox(key="mistakes_true").value == true_class
        assert app.selectbox(key="mistakes_predicted").value == predicted_class
        assert app.query_params["true"] == str(true_class) and app.query_params["pred"] == str(predicted_class)
        cell = evaluation.indices_for_cell(data.y_test, predicted, true_class, predicted_class)
        assert len(cell) == count and gallery_indices(app) == cell[:GALLERY_PAGE].tolist()


def test_show_more_pages_through_a_large_cell(stored_mnist_model):
    data, predicted, _ = expected_cell(stored_mnist_model, 0, 0)
    largest = int(np.argmax(np.bincount(data.y_test[data.y_test == predicted], minlength=10)))
    cell = evaluation.indices_for_cell(data.y_test, predicted, largest, largest)
    # The subset's cells are smaller than a gallery page, so start from a page of 5 images.
    app = run_page(query={"model": stored_mnist_model.id},
                   session={"mistakes_true": largest, "mistakes_predicted": largest, "mistakes_shown": 5})
    assert gallery_indices(app) == cell[:5].tolist()
    more = app.button(key="mistakes_more")
    assert more.label == f"Show {len(cell) - 5} more"
    more.click().run()
    assert not app.exception
    assert gallery_indices(app) == cell.tolist()
    assert not any(button.key == "mistakes_more" for button in app.button)


def test_per_class_table_matches_the_library(stored_fashion_model):
    app = run_page(query={"dataset": "fashion_mnist", "model": stored_fashion_model.id})
    data, predicted, _ = expected_cell(stored_fashion_model, 0, 0)
    expected = evaluation.per_class_metrics(data.y_test, predicted)
    table = app.dataframe[0].value
    assert list(table["class"]) == list(data.class_names)
    assert list(table["test images"]) == expected["support"].tolist()
    for column in ("precision", "recall", "accuracy"):
        np.testing.assert_allclose(table[column].to_numpy(), expected[column], atol=5e-4)


def test_confident_mistakes_are_the_librarys(stored_mnist_model):
    app = run_page(query={"model": stored_mnist_model.id})
    data = datasets.load("mnist", subset="small")
    expected = evaluation.confident_mistakes(data.y_test, store.load_probabilities(stored_mnist_model.id)[-1], k=6)
    captions = [picture.caption for element in app.get("image") for picture in element.proto.imgs]
    caption = next(caption for caption in captions if caption.startswith("Test images #"))
    shown = [int(number) for number in re.findall(r"#(\d+)", caption.split(" (left to right")[0])]
    assert shown == expected.tolist() and len(shown) == 6


def test_epoch_slider_shows_that_epochs_matrix(stored_mnist_model):
    app = run_page(query={"model": stored_mnist_model.id})
    probabilities = store.load_probabilities(stored_mnist_model.id)
    labels = datasets.load("mnist", subset="small").y_test
    slider = app.slider(key="mistakes_epoch")
    assert slider.value == len(probabilities) == stored_mnist_model.epochs_run
    slider.set_value(1).run()
    assert not app.exception
    first = evaluation.predicted_labels(probabilities[0])
    assert (f"After epoch 1: test accuracy {evaluation.accuracy(labels, first):.2%}, "
            f"{int((first != labels).sum())} mistakes.") in texts(app)


def test_csv_download_has_every_test_image(stored_mnist_model, monkeypatch):
    deferred = []
    original = MediaFileManager.add_deferred

    def record(self, data_callable, *args, **kwargs):
        deferred.append(data_callable)
        return original(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    app = run_page(query={"model": stored_mnist_model.id})
    assert app.get("download_button")[0].proto.label == "Download all test predictions (CSV)"
    assert len(deferred) == 1
    rows = list(csv.reader(io.StringIO(deferred[0]())))
    data = datasets.load("mnist", subset="small")
    final = store.load_probabilities(stored_mnist_model.id)[-1]
    assert rows[0] == ["index", "true", "predicted", "confidence", *data.class_names]
    assert len(rows) == len(data.y_test) + 1
    predicted = evaluation.predicted_labels(final)
    for index in (0, 17, len(data.y_test) - 1):
        row = rows[index + 1]
        assert row[:3] == [str(index), data.class_names[data.y_test[index]], data.class_names[predicted[index]]]
        np.testing.assert_allclose([float(value) for value in row[4:]], final[index], atol=1e-4)
        assert float(row[3]) == pytest.approx(final[index].max(), abs=1e-4)
