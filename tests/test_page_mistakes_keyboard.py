"""AppTest of the Mistakes page without the mouse: the confusion matrix as a table, and a gallery image opened on
Predict from a select box and a link (the heatmap's cells take clicks only)."""

import pytest

from mnistlib import evaluation
from tests.test_page_mistakes import expected_cell, gallery_indices, run_page


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def test_the_matrix_is_also_a_table_of_the_same_counts(stored_mnist_model):
    app = run_page(query={"model": stored_mnist_model.id})
    data, predicted, _ = expected_cell(stored_mnist_model, 0, 0)
    matrix = evaluation.confusion_matrix(data.y_test, predicted, num_classes=10)
    # The matrix, and the one of the epoch-by-epoch section, at its last epoch: the same counts.
    tables = [frame.value for frame in app.table if "true ↓ / predicted →" in frame.value.columns]
    assert len(tables) == 2
    for table in tables:
        assert table["true ↓ / predicted →"].tolist() == list(data.class_names)
        for column in range(10):
            assert table[f"→ {data.class_names[column]}"].tolist() == matrix[:, column].tolist()


def test_a_gallery_image_opens_on_predict_from_the_keyboard_controls(stored_mnist_model):
    app = run_page(query={"model": stored_mnist_model.id, "true": "1", "pred": "1"})
    shown = gallery_indices(app)
    box = app.selectbox(key="mistakes_open_1_1")
    assert box.options == [f"Test image #{index}" for index in shown]
    box.set_value(shown[2]).run()
    assert not app.exception
    links = [element.proto for element in app.get("page_link")] + [m.value for m in app.markdown]
    wanted = f"Open test image #{shown[2]} on the Predict page"
    assert any(wanted in str(link) and f"image={shown[2]}" in str(link) for link in links), links
