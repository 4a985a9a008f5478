"""Every page with a class's own 3-class dataset (AppTest): sized by its classes, never by MNIST's 10; and a model
whose dataset was removed (or replaced by a new one of the same name) says so instead of opening."""


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnistlib import datasets, store
from tests import page_runs
from tests.test_dask_own_data import CLASSES, shapes_arrays
from tests.test_user_datasets import train_and_store

ADA = store.Actor("ada", "Ada")
PAGES = ["home", "dataset", "own_data", "train", "predict", "mistakes", "draw", "compare", "insight", "board"]


@pytest.fixture(scope="module")
def three_classes(tmp_path_factory):
    """A data folder with the 3-class dataset "shapes" and a store with two models trained on it (2 epochs)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNISTLIB_SUBSET", "small")
        patch.setenv("MNISTLIB_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        patch.setenv("MNISTLIB_MODELS_DIR", str(tmp_path_factory.mktemp("models")))
        datasets.add("shapes", shapes_arrays(np.random.default_rng(0)), CLASSES, title="Shapes", added_by=ADA)
        models = [train_and_store("shapes", ADA, epochs=2, seed=seed) for seed in (1, 2)]
        yield models


def run(page: str, session=None, query=None) -> AppTest:
    return page_runs.run_page(f"app_pages/{page}.py", query, {"actor": ADA, **(session or {})})


def texts(app: AppTest) -> str:
    return page_runs.texts(app).replace("\\", "")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_a_three_class_dataset(page, three_classes):
    app = run(page, session={"dataset": "shapes"})
    assert "Shapes" in texts(app)
    assert "0–9" not in texts(app) and "Dense(10" not in texts(app)


def test_the_pages_are_sized_by_the_three_classes(three_classes):
    home = run("home", session={"dataset": "shapes"})
    assert "in 3 classes — ring, bar, cross; added by Ada" in texts(home)
    assert "Dense(3, softmax)" in texts(home)
    dataset = run("dataset", session={"dataset": "shapes"})
    assert "a class number 0–2" in texts(dataset) and "added by Ada" in texts(dataset)
    mistakes = run("mistakes", session={"dataset": "shapes"})
    assert mistakes.dataframe[0].value["class"].tolist() == list(CLASSES)
    assert [box.options for box in mistakes.selectbox if box.key == "mistakes_true"] == [list(CLASSES)]
    draw = run("draw", session={"dataset": "shapes"})
    assert "it knows 3 classes (ring, bar, cross)" in texts(draw)
    compare = run("compare", session={"dataset": "shapes"})
    assert compare.dataframe[0].value["class"].tolist() == list(CLASSES)


def test_a_link_to_a_cell_beyond_the_classes_is_refused_with_their_range(three_classes):
    app = run("mistakes", session={"dataset": "shapes"}, query={"true": "7", "pred": "0"})
    assert "is not two class numbers 0–2" in texts(app)


## A model whose dataset is gone


@pytest.fixture
def own_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(tmp_path / "models"))


REMOVED = "The dataset this model was trained on has been removed"


def test_opening_a_model_whose_dataset_was_removed_says_so(own_store):
    datasets.add("shapes", shapes_arrays(np.random.default_rng(0)), CLASSES, added_by=ADA)
    card = train_and_store("shapes", ADA)
    datasets.remove("shapes")
    # The class board's "Open on Predict" puts the model and its dataset in the session.
    for page in ("predict", "mistakes", "draw", "insight"):
        app = run(page, session={"dataset": "shapes", "model": card.id})
        assert REMOVED in texts(app), page
        assert app.session_state["dataset"] == "mnist"
    # A link shared before the removal.
    app = run("mistakes", query={"dataset": "shapes", "model": card.id})
    assert REMOVED in texts(app)


def test_a_dataset_added_again_under_the_same_name_is_not_mixed_with_the_old_ones_models(own_store):
    datasets.add("shapes", shapes_arrays(np.random.default_rng(0)), CLASSES, added_by=ADA)
    old = train_and_store("shapes", ADA)
    before = run("dataset", session={"dataset": "shapes"})
    assert [metric.value for metric in before.metric][1] == "60"
    datasets.remove("shapes")
    smaller = shapes_arrays(np.random.default_rng(1))
    smaller = {"x_train": smaller["x_train"][:30], "y_train": smaller["y_train"][:30],
               "x_test": smaller["x_test"], "y_test": smaller["y_test"]}
    datasets.add("shapes", smaller, CLASSES, added_by=ADA)
    # The same server process: the cached dataset of the old one is not served for the new one.
    after = run("dataset", session={"dataset": "shapes"})
    assert [metric.value for metric in after.metric][1] == "30"
    # The old model is not offered for the new dataset, and asking for it says why.
    predict = run("predict", session={"dataset": "shapes"})
    assert "No trained model for shapes yet" in texts(predict)
    chosen = run("predict", session={"dataset": "shapes", "model": old.id})
    assert REMOVED in texts(chosen)
    new = train_and_store("shapes", ADA, seed=3)
    opened = run("mistakes", session={"dataset": "shapes", "model": new.id})
    assert REMOVED not in texts(opened) and opened.session_state["model"] == new.id
