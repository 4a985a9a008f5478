"""AppTest of the explanation's figures in words (Draw and Predict show it): a CNN's activation grid and Grad-CAM
each get a sentence computed from the explanation's arrays, and a table behind a toggle."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnistlib import datasets, insight, models, store
from mnistlib import figure_summaries as summaries
from tests.conftest import train_and_store
from tests.page_runs import texts


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def explain_script(model_id, image):
    from dashboard import insight as insight_ui
    from dashboard import loaders
    from mnistlib import store

    card = store.load_card(model_id)
    data = loaders.load_dataset(card.dataset, card.subset)
    insight_ui.explain_image(loaders.keras_model(card.id, card.created), image, data.class_names, key="demo")


def test_a_cnns_activations_and_grad_cam_are_said_in_words_and_tabled(models_dir):
    # Trained into this test's own store (seeded), so the session's store keeps its newest model.
    card = train_and_store("mnist", epochs=1, spec=models.ModelSpec(architecture="cnn", hidden_units=16, seed=1),
                           name="CNN explained in words")
    data = datasets.load("mnist", subset="small")
    image = data.x_test[0]
    explanation = insight.explain(store.load_model(card.id), image, data.class_names)
    answer = data.class_names[explanation.predicted]
    app = AppTest.from_function(explain_script, args=(card.id, image), default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    assert [tab.label for tab in app.tabs] == ["Hidden units", "Pixels (saliency)", "Convolutions"]
    captions = texts(app, ("caption",))
    assert summaries.activation_summary(explanation.activations) in captions
    assert summaries.grad_cam_summary(explanation.grad_cam, answer) in captions
    assert captions.count("filters respond somewhere in this image") == 2  # one sentence per convolution
    assert not app.dataframe  # the tables wait behind their toggles

    app.toggle(key="demo_activations_table").set_value(True)
    app.toggle(key="demo_grad_cam_table").set_value(True)
    app.run()
    assert not app.exception, app.exception
    units, heat = (frame.value for frame in app.dataframe)
    assert list(units["unit"]) == list(np.argsort(-explanation.activations, kind="stable"))
    np.testing.assert_allclose(units["activation"], np.sort(explanation.activations)[::-1], atol=1e-4)
    pushes = explanation.contributions[units["unit"], explanation.predicted]
    np.testing.assert_allclose(units[f"push toward {answer}"], pushes, atol=1e-4)
    assert list(heat["part of the image"]) == ["top (rows 0–9)", "middle (rows 10–18)", "bottom (rows 19–27)"]
    np.testing.assert_allclose(heat.iloc[:, 1:].to_numpy(), summaries.heat_parts(explanation.grad_cam), atol=1e-6)
