"""AppTest of the Model insight page: class averages, a dense model's templates, a CNN's 3×3 filters."""


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnistlib import evaluation, models, plots, store
from tests import page_runs
from tests.conftest import train_and_store
from tests.page_runs import texts


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


@pytest.fixture
def drawn(monkeypatch):
    """The arrays the page hands to plots.templates_grid, recorded."""
    calls = []
    original = plots.templates_grid

    def record(templates, *args, **kwargs):
        calls.append(np.array(templates))
        return original(templates, *args, **kwargs)

    monkeypatch.setattr(plots, "templates_grid", record)
    return calls


def run_page(query=None) -> AppTest:
    return page_runs.run_page("app_pages/insight.py", query)


def first_kernel(card, kind: str) -> np.ndarray:
    model = store.load_model(card.id)
    return next(layer for layer in model.layers if type(layer).__name__ == kind).get_weights()[0]


def test_fresh_state_shows_the_class_averages_and_what_to_do(models_dir):
    app = run_page()
    assert len(app.get("image")) == 1  # the averages, one PNG
    assert "average of one class's training images (100 per class, 1,000 in all)" in texts(app)
    assert "No trained model for MNIST digits yet" in texts(app)


def test_a_dense_model_shows_its_first_layer_templates(stored_mnist_model, drawn):
    app = run_page(query={"model": stored_mnist_model.id})
    slider = app.slider(key="insight_units")
    assert slider.value == 32 and slider.max == 64  # 128 units, capped at 64
    assert "Showing 32 of the first Dense layer's 128 units" in texts(app)
    slider.set_value(13).run()
    assert not app.exception
    assert "Showing 13 of the first Dense layer's 128 units" in texts(app)
    expected = evaluation.first_layer_templates(first_kernel(stored_mnist_model, "Dense"))
    assert drawn and drawn[-1].shape == (13, 28, 28)
    np.testing.assert_allclose(drawn[-1], expected[:13])


def test_a_cnn_shows_its_small_filters(models_dir, drawn):
    # Trained into this test's own store, so the session's store keeps its newest model.
    cnn = train_and_store("mnist", epochs=1, spec=models.ModelSpec(architecture="cnn", hidden_units=16, seed=1),
                          name="Small CNN test model")
    app = run_page(query={"model": cnn.id})
    assert "This is a CNN" in texts(app) and "3×3 filters" in texts(app)
    assert not any(slider.key == "insight_units" for slider in app.slider)
    kernel = first_kernel(cnn, "Conv2D")  # (3, 3, 1, filters)
    assert drawn and drawn[-1].shape == (kernel.shape[-1], 3, 3)
    np.testing.assert_allclose(drawn[-1][5], kernel[:, :, 0, 5])
