"""Every page through Streamlit's AppTest: fresh state, with a trained model, and a real training run."""

import json
import time

import numpy as np
import pytest

from mnistlib import browse_data, datasets, evaluation, store
from tests.page_runs import run_page, texts

PAGES = ["app_pages/home.py", "app_pages/dataset.py", "app_pages/train.py", "app_pages/predict.py"]


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_on_a_fresh_state(path, models_dir):
    app = run_page(path)
    if path == "app_pages/predict.py":
        assert "No trained model for MNIST digits yet" in texts(app)
        assert app.button(key="quick_start_missing_model")


def test_dataset_page_shows_the_seed_answers_and_switches_dataset():
    app = run_page("app_pages/dataset.py")
    metrics = {metric.label: metric.value for metric in app.metric}
    small = datasets.load("mnist", subset="small")
    assert metrics["x_train.shape"] == str(small.x_train.shape) and metrics["len(y_train)"] == "1000"
    assert "**0** 0" in texts(app)
    app.radio(key="dataset_choice").set_value("fashion_mnist").run()
    assert not app.exception
    assert "**9** Ankle boot" in texts(app) and app.query_params["dataset"] == "fashion_mnist"


def test_dataset_page_full_shapes(monkeypatch):
    if not datasets.is_fetched("mnist"):
        pytest.skip("full data not fetched")
    monkeypatch.setenv("MNISTLIB_SUBSET", "full")
    metrics = {metric.label: metric.value for metric in run_page("app_pages/dataset.py").metric}
    assert metrics == {"x_train.shape": "(60000, 28, 28)", "len(y_train)": "60000",
                       "x_test.shape": "(10000, 28, 28)", "len(y_test)": "10000"}


def shown_prediction(app):
    predicted = next(m.value for m in app.markdown if m.value.startswith("### Predicted: "))
    detail = next(m.value for m in app.markdown if m.value.startswith("confidence **"))
    return predicted.removeprefix("### Predicted: "), detail


def in_page_browser(app):
    """The Predict page's in-page browser: (the view it starts at, its payload's bytes); None when absent."""
    elements = {element.proto.component_name: element.proto for element in app.get("bidi_component")}
    if "mnist_lab.image_browser" not in elements:
        return None
    return json.loads(elements["mnist_lab.image_browser_view"].json), elements["mnist_lab.image_browser"].bytes


@pytest.mark.parametrize("index", [0, 199])
def test_predict_sends_the_browser_every_test_image_and_epoch_once(stored_mnist_model, index):
    model_id = stored_mnist_model.id
    app = run_page("app_pages/predict.py", query={"model": model_id, "image": str(index)})
    probabilities = store.load_probabilities(model_id)
    data = datasets.load("mnist", subset="small")
    view, payload = in_page_browser(app)
    assert view == {"payload": model_id, "image": index, "epoch": 3, "true_class": None, "result": "all",
                    "timeout_seconds": 30}
    unpacked = browse_data.unpack(payload)
    np.testing.assert_array_equal(unpacked.images, data.x_test)
    np.testing.assert_array_equal(unpacked.labels, data.y_test)
    np.testing.assert_array_equal(unpacked.predicted, np.argmax(probabilities, axis=2))
    code = app.code[0].value
    assert f"np.argmax(probabilities[{index}])   # {np.argmax(probabilities[-1][index])}  " in code
    assert f"y_test[{index}]   # {data.y_test[index]}  " in code
    assert app.query_params["image"] == str(index)
    app.run()  # a rerun sends the same payload, so Streamlit sends the browser a reference instead of megabytes
    assert not app.exception and in_page_browser(app)[1] == payload


def test_predict_falls_back_to_the_server_browser(stored_mnist_model):
    failed = {"model": stored_mnist_model.id, "reason": "the data did not arrive within 30 seconds"}
    app = run_page("app_pages/predict.py", query={"model": stored_mnist_model.id, "image": "5"},
                   session={"predict_browser_failed": failed})
    assert "could not show the test images here: the data did not arrive within 30 seconds." in texts(app)
    assert in_page_browser(app) is None
    assert "Confidence is the probability the model gives its predicted class" in texts(app)
    assert "16-bit floats" in texts(app)  # the code's numbers are said to be rounded
    app.button(key="predict_next").click().run()
    assert app.number_input(key="predict_index").value == 6
    app.button(key="predict_previous").click().run()
    app.button(key="predict_previous").click().run()
    assert app.number_input(key="predict_index").value == 4
    assert app.selectbox(key="predict_filter_class").value == -1  # shown as "any"
    app.radio(key="predict_filter_result").set_value("wrong").run()
    app.button(key="predict_next").click().run()
    data = datasets.load("mnist", subset="small")
    probabilities = store.load_probabilities(stored_mnist_model.id)
    predicted = evaluation.predicted_labels(probabilities[-1])
    index = app.number_input(key="predict_index").value
    assert predicted[index] != data.y_test[index] and index > 4
    app.radio(key="predict_filter_result").set_value("all").run()
    app.selectbox(key="predict_filter_class").set_value(5).run()
    app.button(key="predict_next").click().run()
    index = app.number_input(key="predict_index").value
    assert data.y_test[index] == 5 and "true label **5**" in shown_prediction(app)[1]
    app.slider(key="predict_epoch").set_value(1).run()  # the label follows the epoch slider
    assert shown_prediction(app)[0] == str(np.argmax(probabilities[0][index]))
    assert app.query_params["image"] == str(index)
    app.button(key="predict_retry_browser").click().run()
    assert not app.exception and in_page_browser(app)[0]["image"] == index


def test_predict_with_saved_probabilities_that_do_not_fit_the_test_set(stored_mnist_model):
    from mnistlib import models

    card = stored_mnist_model
    fields = {key: value for key, value in card.to_dict().items() if key not in ("id", "created")}
    cut = store.save(store.model_bytes(card.id), {**fields, "name": "cut short"},
                     store.load_probabilities(card.id)[:, :150])
    app = run_page("app_pages/predict.py", query={"model": cut.id, "image": "170"})
    assert ("do not fit the MNIST digits test set (the stored probabilities are for 150 images and 10 classes, but "
            "this test set has 200 images and 10 classes)") in texts(app)
    assert in_page_browser(app) is None
    data = datasets.load("mnist", subset="small")
    computed = models.predict_images(store.load_model(cut.id), data.x_test[170:171])[0]
    assert shown_prediction(app)[0] == str(np.argmax(computed))


@pytest.mark.parametrize("bad", ["-1", "10000", "abc"])
def test_predict_bad_image_links_warn_and_show_image_0(stored_mnist_model, bad):
    app = run_page("app_pages/predict.py", query={"model": stored_mnist_model.id, "image": bad})
    assert "is not a test image number" in texts(app)
    assert in_page_browser(app)[0]["image"] == 0


def test_unknown_dataset_and_model_links_fall_back(stored_mnist_model):
    app = run_page("app_pages/predict.py", query={"dataset": "cifar", "model": "../x"})
    assert "does not exist here" in texts(app)
    assert app.query_params["dataset"] == "mnist"


def test_a_training_run_through_the_page_ends_with_a_stored_model():
    before = {card.id for card in store.list_models()}
    app = run_page("app_pages/train.py", session={"actor": store.Actor("ada", "Ada")})  # training needs a name
    assert "Total parameters: 101,770" in texts(app)
    app.number_input(key="train_epochs").set_value(2).run()
    app.button(key="train_start").click().run()
    deadline = time.monotonic() + 180
    while not app.metric and time.monotonic() < deadline:
        time.sleep(0.5)
        app.run()
        assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    new = [card for card in store.list_models() if card.id not in before]
    assert len(new) == 1 and new[0].epochs_run == 2
    assert metrics["Test accuracy"] == f"{new[0].test_accuracy:.2%}"
    assert metrics["Validation accuracy (last epoch)"] == f"{new[0].history[-1]['val_accuracy']:.2%}"
    assert "Validation loss" in texts(app)  # overfitting is judged on the validation curve


def test_without_live_curves_the_curves_appear_only_when_training_ends():
    app = run_page("app_pages/train.py", session={"actor": store.Actor("ada", "Ada")})
    app.toggle(key="train_live_curves").set_value(False).run()
    app.number_input(key="train_epochs").set_value(5).run()
    app.button(key="train_start").click().run()
    def live_curves_drawn():  # what the Train page's live view (a component) is told: draw the curves or not
        element = next(element for element in app.get("bidi_component")
                       if element.proto.component_name == "mnist_lab.live_training_feed")
        return json.loads(element.proto.json)["curves"]

    polls_while_training, deadline = 0, time.monotonic() + 180
    while not app.metric and time.monotonic() < deadline:
        assert not live_curves_drawn(), "curves drawn while training with live curves off"
        assert "Live curves are off" in texts(app)
        polls_while_training += 1
        time.sleep(0.2)
        app.run()
    assert polls_while_training >= 1 and app.metric
    assert live_curves_drawn() and "Live curves are off" not in texts(app)  # the finished curves


def test_an_invalid_setting_is_explained(monkeypatch):
    app = run_page("app_pages/train.py")
    app.slider(key="train_dropout_dense").set_value(0.9).run()
    assert not app.exception and not app.error  # 0.9 is allowed
    app = run_page("app_pages/train.py", query={"job": "../../etc"})
    assert "no longer running" in texts(app)
