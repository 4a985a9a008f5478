"""Inside the network on the pages (AppTest): the explanation on Draw and Predict, the hidden-space map on Model
insight, the learning-rate finder on Train; each names the class the model's argmax gives, and never a traceback."""

import io
import json
import time

import keras
import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from dashboard import insight as insight_ui
from dashboard.train.settings import LEARNING_RATES
from mnistlib import datasets, hidden_space, insight, lr_finder, models, store
from tests.conftest import train_and_store
from tests.page_runs import run_page, texts


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


@pytest.fixture(scope="module")
def data():
    return datasets.load("mnist", subset="small")


def explained_class(app) -> str:
    """The class the explanation names: its "**Predicted: NAME** (…)" line."""
    lines = [m.value for m in app.markdown if m.value.startswith("**Predicted: ")]
    assert len(lines) == 1, lines
    return lines[0].removeprefix("**Predicted: ").split("**")[0]


def argmax_class(model, image, class_names) -> str:
    return class_names[int(np.argmax(model(image[None] / 255.0, training=False)[0]))]


def png(image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def train_with_map(dataset="mnist", epochs=3, spec=None, name="Model with a map"):
    """A model trained here and stored with its per-epoch hidden-space map, as the trainer stores one."""
    spec = spec or models.ModelSpec(hidden_units=32, seed=6)
    data = datasets.load(dataset, subset="small")
    model = models.build(spec)
    per_epoch, probabilities = [], []

    def keep(epoch, logs):
        per_epoch.append(insight.hidden_activations(model, data.x_test))
        probabilities.append(models.predict_images(model, data.x_test).astype(np.float16))

    model.fit(data.x_train / 255.0, data.y_train, epochs=epochs, batch_size=32, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=keep)])
    points, _ = hidden_space.hidden_space(per_epoch)
    card = store.save(model, {
        "name": name, "dataset": dataset, "subset": "small", "spec": spec.to_dict(), "epochs_run": epochs,
        "history": [{"epoch": epoch + 1, "loss": 1.0, "accuracy": 0.5} for epoch in range(epochs)],
        "test_loss": 1.0, "test_accuracy": 0.5, "training_seconds": 1.0, "test_size": len(data.y_test),
    }, np.stack(probabilities), hidden_map={"epochs": list(range(1, epochs + 1)), "points": points})
    return card, points


## The explanation element


def explain_script(model_id, image, layerless):
    import keras
    import streamlit as st

    from dashboard import insight as insight_ui
    from dashboard import loaders
    from mnistlib import store

    card = store.load_card(model_id)
    data = loaders.load_dataset(card.dataset, card.subset)
    model = loaders.keras_model(card.id, card.created)
    if layerless:
        model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
    explanation = insight_ui.explain_image(model, image, data.class_names, key="demo", true_label=int(data.y_test[0]),
                                           epochs_run=card.epochs_run)
    st.session_state["predicted"] = explanation.predicted


def render(script, *args) -> AppTest:
    app = AppTest.from_function(script, args=args, default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    return app


def test_the_explanation_names_the_models_answer(stored_mnist_model, data):
    model = store.load_model(stored_mnist_model.id)
    app = render(explain_script, stored_mnist_model.id, data.x_test[0], False)
    assert explained_class(app) == argmax_class(model, data.x_test[0], data.class_names)
    assert [tab.label for tab in app.tabs] == ["Hidden units", "Pixels (saliency)"]
    captions = " ".join(caption.value for caption in app.caption)
    assert "The 128 units of the last hidden layer" in captions and "How to read it" in captions
    blank = render(explain_script, stored_mnist_model.id, np.zeros((28, 28), np.uint8), True)
    notes = " ".join(info.value for info in blank.info)
    assert "The image is blank" in notes and "no hidden Dense layer" in notes


## Draw


def upload(app, content: bytes) -> AppTest:
    app.file_uploader(key="draw_upload").set_value(("digit.png", content, "image/png"))
    app.run()
    assert not app.exception, app.exception
    return app


def test_draw_explains_an_upload_with_the_models_answer(stored_mnist_model, data):
    model = store.load_model(stored_mnist_model.id)
    app = upload(run_page("app_pages/draw.py", query={"model": stored_mnist_model.id}), png(data.x_test[3]))
    expected = argmax_class(model, data.x_test[3], data.class_names)  # already MNIST-like: used as it is
    assert f"### Predicted: {expected}" in texts(app, ("markdown",)) and explained_class(app) == expected
    assert app.expander(key="upload_why").label == insight_ui.WHY
    assert "How to read it" in texts(app)
    app.session_state["upload_why"] = False  # the student closes it: nothing is computed for it
    app.run()
    assert not app.exception and not [m for m in app.markdown if m.value.startswith("**Predicted: ")]


def test_draw_a_blank_image_gets_a_note(stored_mnist_model):
    app = upload(run_page("app_pages/draw.py", query={"model": stored_mnist_model.id}), png(np.zeros((28, 28))))
    assert "Nothing to recognise yet" in texts(app) and not app.error


## Predict


def test_predict_explains_the_current_test_image_by_the_saved_model(stored_mnist_model, data):
    model = store.load_model(stored_mnist_model.id)
    app = run_page("app_pages/predict.py", query={"model": stored_mnist_model.id, "image": "7"})
    assert app.expander(key="predict_why").label == insight_ui.WHY
    assert not [m for m in app.markdown if m.value.startswith("**Predicted: ")]  # closed: nothing computed
    app.session_state["predict_why"] = True
    app.run()
    assert not app.exception, app.exception
    assert explained_class(app) == argmax_class(model, data.x_test[7], data.class_names)
    assert "not epoch" not in texts(app)
    # Looking at epoch 1 of 3: the explanation says it is the saved model's.
    view = {"image": 7, "epoch": 1, "true_class": None, "result": "all", "model": stored_mnist_model.id}
    app = run_page("app_pages/predict.py", query={"model": stored_mnist_model.id, "image": "7"},
                   session={"predict_view": view, "predict_why": True})
    assert "This explains the saved model (after epoch 3), not epoch 1" in texts(app)
    assert explained_class(app) == argmax_class(model, data.x_test[7], data.class_names)


## Model insight: the hidden-space map


def plotted_map(app) -> dict:
    """The hidden-space figure the page sent (its Plotly JSON)."""
    charts = [chart for chart in app.get("plotly_chart") if '"scattergl"' in chart.proto.spec]
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def trace_values(trace, axis: str) -> np.ndarray:
    """A trace's x or y, whether Plotly sent a list or a typed array ({"dtype", "bdata"})."""
    values = trace[axis]
    if isinstance(values, dict):
        import base64

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values)


def test_the_map_shows_every_stored_epoch_on_fixed_axes(models_dir, data):
    card, points = train_with_map()
    app = run_page("app_pages/insight.py", query={"model": card.id})
    slider = app.select_slider(key="insight_map_epoch")
    assert list(slider.options) == ["1", "2", "3"] and slider.value == 3
    captions = texts(app, ("caption",))
    assert "Each dot is one of the 200 test images" in captions and "after epoch 3" in captions
    assert "The axes are not pixels and not classes" in captions
    slider.set_value(1).run()
    assert not app.exception, app.exception
    figure = plotted_map(app)
    sevens = next(trace for trace in figure["data"] if trace["name"] == data.class_names[7])
    np.testing.assert_allclose(trace_values(sevens, "x"), points[0][data.y_test == 7, 0], atol=1e-2)  # float16
    assert "after epoch 1" in texts(app, ("caption",))


def test_an_older_model_gets_its_final_map_computed_with_a_note(stored_mnist_model):
    app = run_page("app_pages/insight.py", query={"model": stored_mnist_model.id})
    assert not [slider for slider in app.select_slider if slider.key == "insight_map_epoch"]
    captions = texts(app, ("caption",))
    assert "saved before MNIST Lab kept a map after every epoch" in captions and "of their variance" in captions
    figure = plotted_map(app)
    assert len(figure["data"]) == 11  # ten classes and the ringed mistakes


## A one-epoch CNN on every page


def test_a_one_epoch_cnn_is_explained_and_mapped_with_notes(models_dir, data):
    cnn = train_and_store("mnist", epochs=1, spec=models.ModelSpec(architecture="cnn", hidden_units=16, seed=1),
                          name="Small CNN insight model")
    model = store.load_model(cnn.id)
    app = upload(run_page("app_pages/draw.py", query={"model": cnn.id}), png(data.x_test[1]))
    assert explained_class(app) == argmax_class(model, data.x_test[1], data.class_names)
    assert [tab.label for tab in app.tabs][-3:] == ["Hidden units", "Pixels (saliency)", "Convolutions"]
    notes = texts(app, ("info",))
    assert insight_ui.ONE_EPOCH_NOTE in notes and "worked out for this image" in notes
    layers = [markdown.value.split(": ")[1] for markdown in app.markdown if "feature maps of" in markdown.value]
    assert layers == ["32 feature maps of 26×26", "64 feature maps of 11×11"]
    app = run_page("app_pages/insight.py", query={"model": cnn.id})
    assert "This is a CNN" in texts(app) and "Each dot is one of the 200 test images" in texts(app)


## Train: the learning-rate finder


def test_the_finder_runs_shows_progress_and_sets_the_learning_rate():
    app = run_page("app_pages/train.py", session={"actor": store.Actor("lin", "Lin")})
    app.select_slider(key="train_learning_rate").set_value(1.0).run()
    assert app.expander(key="lr_finder").label == "🔎 Find a good learning rate"
    app.button(key="lr_start").click().run()
    assert not app.exception, app.exception
    job_id = app.session_state["lr_job_id"]
    assert "job_id" not in app.session_state  # the training's job is another one
    seen_progress = bool(app.get("progress"))  # the run that started it shows it at once
    deadline = time.monotonic() + 240
    while not [button for button in app.button if button.key == "lr_result_use"] and time.monotonic() < deadline:
        time.sleep(0.5)
        app.run()
        assert not app.exception, app.exception
    assert seen_progress
    from dashboard.jobs import job_state

    state = job_state(job_id)
    curve = lr_finder.Curve.from_dict(state.result)
    assert state.status == "finished" and len(curve.learning_rates) >= 6
    # What the live chart drew: the curve's first points, as each step reported them.
    reported = [point["learning_rate"] for point in state.rate_points]
    np.testing.assert_allclose(reported, curve.learning_rates[: len(reported)])
    expected = lr_finder.nearest_choice(lr_finder.suggest(curve.learning_rates, curve.smoothed_losses).valley,
                                        LEARNING_RATES)
    assert expected != 1.0 and f"Use learning rate {expected:g}" in app.button(key="lr_result_use").label
    app.button(key="lr_result_use").click().run()
    assert not app.exception, app.exception
    assert app.select_slider(key="train_learning_rate").value == expected
    assert f"The learning rate above is now {expected:g}" in texts(app, ("success",))


def test_the_finder_can_be_stopped_and_says_what_it_kept():
    app = run_page("app_pages/train.py", session={"actor": store.Actor("max", "Max")})
    app.number_input(key="train_seed").set_value(11).run()  # settings of its own: not shared with another test's run
    # A CNN on batches of 512: the finder's 100 steps take seconds, so the Stop reaches it while it runs.
    app.radio(key="train_architecture").set_value("cnn").run()
    app.select_slider(key="train_batch_size").set_value(512).run()
    app.button(key="lr_start").click().run()
    assert not app.exception, app.exception
    assert not app.button(key="lr_stop").disabled
    app.button(key="lr_stop").click().run()
    assert not app.exception, app.exception
    from dashboard.jobs import job

    state = job(app.session_state["lr_job_id"]).wait(timeout=120)
    app.run()
    assert not app.exception, app.exception
    assert state.status == "stopped" and app.button(key="lr_stop").disabled
    if state.result and state.result["learning_rates"]:  # it had run some steps: the curve so far, marked stopped
        assert lr_finder.Curve.from_dict(state.result).ended == "stopped"
        assert "the run was stopped" in texts(app, ("caption",)) or "exploded too soon" in texts(app, ("warning",))
    else:
        assert "There is no curve to show" in texts(app, ("warning",))
