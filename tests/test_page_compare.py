"""AppTest of the Compare page: two models' accuracies, per-class table, disagreements, one image's histograms."""

import json
import re
import shutil

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnistlib import config, datasets, evaluation, models, names, store
from tests import page_runs
from tests.conftest import train_and_store
from tests.page_runs import texts


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


@pytest.fixture(scope="module")
def second_mnist_model(stored_mnist_model):
    """A different, weaker MNIST model (another seed, 32 units, 1 epoch) in the session's store."""
    return train_and_store("mnist", epochs=1, spec=models.ModelSpec(seed=3, hidden_units=32, validation_split=0.1),
                           name="Second MNIST test model")


def run_page(query=None, session=None) -> AppTest:
    return page_runs.run_page("app_pages/compare.py", query, session)


def final_predictions(card) -> np.ndarray:
    return evaluation.predicted_labels(store.load_probabilities(card.id)[-1])


def chart_titles(app) -> list[str]:
    titles = []
    for chart in app.get("plotly_chart"):
        title = json.loads(chart.proto.spec).get("layout", {}).get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else "")
    return titles


@pytest.fixture
def session_store():
    """The session's model store (where the trained fixtures live), before a test swaps in its own."""
    return config.models_dir()


def test_fresh_state_says_two_models_are_needed(models_dir):
    app = run_page()
    assert "needs two trained models" in texts(app) and "are none so far" in texts(app)
    assert "Go to Train" in texts(app) or app.get("page_link")


def test_one_model_is_not_enough(stored_mnist_model, session_store, tmp_path, monkeypatch):
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copytree(session_store / stored_mnist_model.id, folder / stored_mnist_model.id)
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(folder))
    app = run_page()
    assert "there is 1 so far" in texts(app)


def test_two_models_side_by_side(stored_mnist_model, second_mnist_model):
    app = run_page(query={"dataset": "mnist", "a": stored_mnist_model.id, "b": second_mnist_model.id})
    assert app.selectbox(key="compare_a").value == stored_mnist_model.id
    assert app.selectbox(key="compare_b").value == second_mnist_model.id
    labels = datasets.load("mnist", subset="small").y_test
    first, second = final_predictions(stored_mnist_model), final_predictions(second_mnist_model)
    metrics = {metric.label: metric.value for metric in app.metric if metric.label.startswith("Test accuracy")}
    assert metrics == {"Test accuracy of A": f"{evaluation.accuracy(labels, first):.2%}",
                       "Test accuracy of B": f"{evaluation.accuracy(labels, second):.2%}"}
    assert abs(float(metrics["Test accuracy of A"].rstrip("%")) / 100 - stored_mnist_model.test_accuracy) < 0.006

    table = app.dataframe[0].value
    np.testing.assert_allclose(table["A"], evaluation.per_class_metrics(labels, first)["accuracy"], atol=1e-4)
    np.testing.assert_allclose(table["B"], evaluation.per_class_metrics(labels, second)["accuracy"], atol=1e-4)

    count = int(np.count_nonzero(first != second))
    assert count > 0
    assert any(m.value == f"The two models give different answers on **{count}** of {len(labels)} test images."
               for m in app.markdown)
    a_right = int(np.count_nonzero((first != second) & (first == labels)))
    b_right = int(np.count_nonzero((first != second) & (second == labels)))
    assert (f"A is right on {a_right}, B on {b_right}, and both are wrong (differently) on "
            f"{count - a_right - b_right}.") in texts(app)
    captions = [picture.caption for element in app.get("image") for picture in element.proto.imgs]
    shown = [int(match.group(1)) for caption in captions if (match := re.match(r"#(\d+) · true ", caption))]
    assert shown == np.flatnonzero(first != second)[:30].tolist()


def test_one_image_shows_both_histograms(stored_mnist_model, second_mnist_model):
    data = datasets.load("mnist", subset="small")
    probabilities = [store.load_probabilities(card.id)[-1] for card in (stored_mnist_model, second_mnist_model)]
    disagree = np.flatnonzero(probabilities[0].argmax(axis=1) != probabilities[1].argmax(axis=1))
    app = run_page(query={"dataset": "mnist", "a": stored_mnist_model.id, "b": second_mnist_model.id})
    # The first image shown is the first disagreement; "next" walks through the others.
    assert app.number_input(key="compare_index").value == disagree[0]
    app.button(key="compare_next").click().run()
    assert not app.exception and app.number_input(key="compare_index").value == disagree[1]
    app.number_input(key="compare_index").set_value(7).run()
    assert not app.exception and app.query_params["compare_index"] == "7"
    names = data.class_names
    expected = [f"Model {letter}: {names[row[7].argmax()]} ({row[7].max():.0%})"
                for letter, row in zip("AB", probabilities, strict=True)]
    assert chart_titles(app)[-2:] == expected
    assert f"x_test[7] · true label {names[data.y_test[7]]}" in [
        picture.caption for element in app.get("image") for picture in element.proto.imgs]


def test_a_link_with_an_unknown_model_warns(stored_mnist_model, second_mnist_model):
    app = run_page(query={"dataset": "mnist", "a": "20000101-000000-000000", "b": second_mnist_model.id})
    assert f"a={names.as_text(repr('20000101-000000-000000'))} is not stored here" in texts(app)  # shown as text
    assert app.selectbox(key="compare_b").value == second_mnist_model.id


def test_the_same_model_twice_is_said(stored_mnist_model, second_mnist_model):
    app = run_page(query={"dataset": "mnist", "a": stored_mnist_model.id, "b": stored_mnist_model.id})
    assert "A and B are the same model" in texts(app)
    assert any("different answers on **0**" in m.value for m in app.markdown)


def test_models_of_different_test_sets_are_not_compared_image_by_image(stored_mnist_model, session_store, tmp_path,
                                                                       monkeypatch):
    if not datasets.is_fetched("mnist"):
        pytest.skip("the full MNIST data is not fetched")
    # A stand-in for a model trained on the full data: the stored model's files with full-size predictions.
    folder = tmp_path / "store"
    folder.mkdir()
    shutil.copytree(session_store / stored_mnist_model.id, folder / stored_mnist_model.id)
    full_id = "20000101-000000-0f0f0f"
    shutil.copytree(session_store / stored_mnist_model.id, folder / full_id)
    card = json.loads((folder / full_id / "card.json").read_text())
    (folder / full_id / "card.json").write_text(json.dumps({**card, "id": full_id, "subset": "full",
                                                            "test_size": 10_000, "name": "Full-data stand-in"}))
    scores = np.random.default_rng(0).random((1, 10_000, 10))
    np.save(folder / full_id / "test_probabilities.npy", (scores / scores.sum(axis=2, keepdims=True)).astype(np.float16))
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(folder))
    app = run_page(query={"dataset": "mnist", "a": full_id, "b": stored_mnist_model.id})
    assert "cannot be compared image by image" in texts(app)
    assert not any("different answers" in m.value for m in app.markdown)
    assert [metric.label for metric in app.metric if metric.label.startswith("Test")] == ["Test accuracy of A",
                                                                                          "Test accuracy of B"]


@pytest.mark.parametrize("value", ["abc", "-3", "100000"])
def test_a_bad_image_index_in_the_link_warns(stored_mnist_model, second_mnist_model, value):
    app = run_page(query={"dataset": "mnist", "a": stored_mnist_model.id, "b": second_mnist_model.id,
                          "compare_index": value})
    assert "is not a test image number" in texts(app)
    assert app.number_input(key="compare_index").value == 0
