"""What the pages teach is true: the numbers they state match the real split, training and arrays, and their
error messages say what to do in the page's own terms."""

import math
import os
import re

import numpy as np
import pytest

from mnistlib import concepts, datasets, evaluation, insight, models, plots, store, training
from mnistlib.training import steps
from tests.conftest import train_and_store
from tests.page_runs import run_page, texts
from tests.test_pages_explore import png_bytes


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def stated_number(pattern: str, text: str) -> int:
    """The whole number a page states where pattern's group matches (thousands separators allowed)."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in the page"
    return int(match.group(1).replace(",", ""))


# ## Steps per epoch: the page's number is the training's


STEP_SETTINGS = [(32, 0.1), (64, 0.15)]  # (batch size, validation split)


@pytest.fixture(scope="module")
def trained_steps(tmp_path_factory):
    """{(batch size, validation split): steps per epoch} reported by real one-epoch trainings of the Trainer, in a
    store of their own (so no stored model answers a request in their place, and other tests' store is kept)."""
    previous = os.environ.get("MNISTLIB_MODELS_DIR")
    os.environ["MNISTLIB_MODELS_DIR"] = str(tmp_path_factory.mktemp("teaching-store"))
    trainer = training.Trainer()
    try:
        jobs = {(batch_size, validation_split): trainer.submit(training.TrainRequest(
                    "mnist", models.ModelSpec(hidden_units=16, batch_size=batch_size, validation_split=validation_split,
                                              seed=4242), epochs=1, subset="small"))
                for batch_size, validation_split in STEP_SETTINGS}
        states = {settings: job.wait(timeout=300) for settings, job in jobs.items()}
    finally:
        trainer.shutdown()
        os.environ.pop("MNISTLIB_MODELS_DIR") if previous is None else os.environ.update(MNISTLIB_MODELS_DIR=previous)
    assert all(state.status == "finished" for state in states.values()), [s.message for s in states.values()]
    return {settings: state.batches for settings, state in states.items()}


@pytest.mark.parametrize("batch_size, validation_split", STEP_SETTINGS)
def test_the_steps_per_epoch_the_train_page_states_are_the_trainings(trained_steps, batch_size, validation_split):
    app = run_page("app_pages/train.py", query={"batch": str(batch_size), "val": str(validation_split)})
    stated = stated_number(r"\*\*([\d,]+) steps per epoch here\*\*", texts(app))
    assert stated_number(r"loop runs ([\d,]+) full batches of", texts(app)) == stated  # the compile()/fit() explanation
    assert trained_steps[batch_size, validation_split] == stated


def test_keras_fit_runs_the_steps_the_page_says_it_would():
    import keras

    app = run_page("app_pages/train.py", query={"batch": "64", "val": "0.15"})
    stated = stated_number(r"Keras's own `model\.fit` would run ([\d,]+) steps", texts(app))
    data = datasets.load("mnist", subset="small")
    steps = []

    class CountSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)

    model = models.build(models.ModelSpec(hidden_units=8, batch_size=64, validation_split=0.15))
    model.fit(data.x_train / 255.0, data.y_train, epochs=1, batch_size=64, validation_split=0.15, verbose=0,
              callbacks=[CountSteps()])
    assert len(steps) == stated


def test_the_steps_note_gives_the_full_datas_and_the_tutorials_numbers():
    text = concepts.steps_note(60000, 0.1, 32)
    assert text.startswith("**1,687 steps per epoch here**") and "54,000 / 32 = 1,687.5" in text
    assert "the last 16 images" in text and "would run 1,688 steps" in text and "shows 1,875" in text
    assert steps.steps_per_epoch(60000, 0.0, 32) == 1875 and "left out" not in concepts.steps_note(60000, 0, 32)


def test_one_step_one_image_and_one_epoch_are_singular():
    text = concepts.steps_note(48, 0.1, 32)  # 43 images learned from: 1 full batch, 11 left out, Keras runs 2 steps
    assert text.startswith("**1 step per epoch here**") and "so 1 full batch —" in text
    assert "the last 11 images of each epoch's shuffled order are left out" in text and "would run 2 steps" in text
    assert "the last 1 image of each epoch's shuffled order is left out" in concepts.steps_note(33, 0.0, 32)
    note = concepts.compile_fit_note(models.ModelSpec(batch_size=32), 10, 101_770, 40, 1)
    assert "runs 1 full batch of 32 images per epoch, 1 in 1 epoch; Keras's `model.fit(...)`" in note
    assert "runs 2 per epoch:" in note


# ## The Train page's other numbers


@pytest.mark.parametrize("query, spec", [
    ({}, models.ModelSpec()),
    ({"arch": "cnn", "units": "64", "batch": "128"}, models.ModelSpec(architecture="cnn", hidden_units=64)),
    ({"layers": "3", "units": "256", "dropout": "0.2"}, models.ModelSpec(hidden_layers=3, hidden_units=256,
                                                                        dropout=0.2)),
])
def test_the_parameter_count_the_train_page_states_is_keras(query, spec):
    text = texts(run_page("app_pages/train.py", query=query))
    parameters = models.build(spec).count_params()
    assert f"**Total parameters: {parameters:,}**" in text
    assert f"for each of the {parameters:,} parameters" in text and f"the {parameters:,} parameters keep" in text
    assert concepts.from_logits_note(10) in text  # the tutorial's logits + from_logits=True form, explained by the code


def test_the_learning_rate_and_loss_notes_use_the_class_count():
    assert "stuck near 2.30 (= ln 10" in concepts.learning_rate_note(10)
    assert "0.69 (= ln 2)" in concepts.loss_value_note(2) and math.isclose(concepts.guessing_loss(10), math.log(10))
    dense = next(row for row in models.summary(models.ModelSpec()) if row.kind == "Dense")
    assert f"= {dense.parameters:,} learned numbers" in concepts.note("dense")


def test_the_concept_notes_state_what_keras_does():
    assert "only for that image" in concepts.note("relu") and "for other images" not in concepts.note("relu")
    assert "square root of a running average" in concepts.note("optimizer")
    assert "10 output units" in concepts.note("outputs") and "−log of unit *k*" in concepts.note("outputs")
    spec = models.ModelSpec()
    model = models.build(spec)
    assert all(not np.any(bias.numpy()) for bias in (layer.bias for layer in model.layers if hasattr(layer, "bias")))
    text = concepts.compile_fit_note(spec, 10, model.count_params(), 60000, 5)
    # 54,000 / 32 = 1,687.5: the app's loop runs the 1,687 full batches, Keras's fit also the last partial one.
    assert "the biases 0" in text and "runs 1,687 full batches of 32" in text and "runs 1,688 per epoch" in text
    assert steps.keras_fit_steps(60000, 0.1, 32) == 1688 and steps.steps_per_epoch(60000, 0.1, 32) == 1687


# ## The Dataset page


@pytest.mark.parametrize("name", datasets.REGISTRY)
@pytest.mark.parametrize("subset", ["small", "full"])
def test_the_class_counts_caption_states_the_real_counts(monkeypatch, name, subset):
    if subset == "full" and not datasets.is_fetched(name):
        pytest.skip("full data not fetched")
    monkeypatch.setenv("MNISTLIB_SUBSET", subset)
    text = texts(run_page("app_pages/dataset.py", query={"dataset": name}))
    counts = np.bincount(datasets.load(name, subset=subset).y_train)
    if counts.min() == counts.max():
        assert f"Exactly {counts.min():,} images per class" in text and "Between" not in text
    else:
        assert f"Between {counts.min():,} and {counts.max():,} images per class" in text


def test_the_small_subset_page_also_states_the_full_shapes():
    if not datasets.is_fetched("mnist"):
        pytest.skip("full data not fetched")
    full = datasets.load("mnist", subset="full")
    app = run_page("app_pages/dataset.py", query={"dataset": "mnist"})
    note = next(info.value for info in app.info if "small practice subset" in info.value)
    assert (f"`x_train.shape` {full.x_train.shape}, `len(y_train)` {len(full.y_train)}, `x_test.shape` "
            f"{full.x_test.shape} and `len(y_test)` {len(full.y_test)}") in note
    assert {metric.label: metric.value for metric in app.metric}["len(y_train)"] == "1000"


# ## Other pages' corrected texts


def test_mistakes_names_the_list_for_what_it_sorts_by(stored_mnist_model):
    app = run_page("app_pages/mistakes.py", query={"model": stored_mnist_model.id})
    assert "The mistakes with the largest loss" in [header.value for header in app.subheader]
    assert "most confident" not in texts(app).lower() and "model.predict(x_test / 255.0)" in texts(app)
    # Practice mode: the snippet's load_data() gives 10,000 test images, not the page's 200; values are rounded.
    assert ("200 images here; in practice mode this page uses the small test set, while "
            "`keras.datasets.mnist.load_data()` gives all 10,000") in texts(app)
    assert concepts.STORED_VALUES in texts(app)
    assert concepts.test_set_as_loaded(10_000, "mnist", 10_000).endswith("10,000 images here.")


def test_compare_shows_each_models_validation_accuracy(stored_mnist_model):
    other = train_and_store("mnist", epochs=1, spec=models.ModelSpec(seed=5, hidden_units=16), name="other")
    app = run_page("app_pages/compare.py", query={"dataset": "mnist", "a": stored_mnist_model.id, "b": other.id})
    metrics = {metric.label: metric.value for metric in app.metric}
    for letter, card in (("A", stored_mnist_model), ("B", other)):
        assert metrics[f"Validation accuracy of {letter}"] == f"{card.history[-1]['val_accuracy']:.2%}"
    # The difference is on validation (the figure to choose by), in percentage points, not on test.
    deltas = {metric.label: metric.delta for metric in app.metric}
    points = (other.history[-1]["val_accuracy"] - stored_mnist_model.history[-1]["val_accuracy"]) * 100
    assert deltas["Validation accuracy of B"] == f"{points:+.2f} points vs A"
    assert not deltas["Test accuracy of B"]


def test_draw_says_confidence_is_not_certainty_for_digits(stored_mnist_model):
    data = datasets.load("mnist", subset="small")
    app = run_page("app_pages/draw.py", query={"model": stored_mnist_model.id})
    app.file_uploader(key="draw_upload").set_value(("digit.png", png_bytes(data.x_test[0]), "image/png")).run()
    assert not app.exception and "Confidence is not certainty" in texts(app)
    probabilities = models.predict_images(store.load_model(stored_mnist_model.id), data.x_test[:1])[0]
    assert f"confidence **{probabilities.max():.1%}**" in texts(app)
    assert "Draw one digit" in texts(app)


def test_texts_name_only_what_is_there():
    probabilities = np.full(10, 0.1)
    legend = plots.probability_bar(probabilities, list("0123456789")).layout.annotations[0].text
    assert legend == "red: predicted"  # Draw: no true label, so no blue bar to name
    assert "blue: true label" in plots.probability_bar(probabilities, list("0123456789"), 3).layout.annotations[0].text
    assert "bags" in datasets.info("fashion_mnist").subject
    model = models.build(models.ModelSpec())
    blank = insight.explain(model, np.zeros((28, 28), np.uint8), [str(digit) for digit in range(10)])
    assert any("through the later layers' weights" in note for note in blank.notes)
    assert "its answer comes from its biases alone" not in " ".join(blank.notes)


def test_the_dataset_page_says_how_many_of_the_training_images_adjust_the_weights():
    text = texts(run_page("app_pages/dataset.py", query={"dataset": "mnist"}))
    assert "the weights are adjusted on 900 of the 1,000 training images" in text


def test_insight_states_the_images_per_class(stored_mnist_model):
    counts = evaluation.class_counts(datasets.load("mnist", subset="small").y_train)
    assert f"({counts.min():,} per class, 1,000 in all)" in texts(run_page("app_pages/insight.py"))


# ## Error messages in the page's terms


def without_commands(text: str) -> bool:
    return "python -m" not in text and "Error" not in text and "MNISTLIB_" not in text


@pytest.fixture
def empty_data_dir(tmp_path, monkeypatch):
    """Full data from an empty data folder; the page's dataset cache is cleared before and after."""
    from dashboard import loaders

    monkeypatch.setenv("MNISTLIB_SUBSET", "full")
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path))
    loaders.load_dataset.clear()
    yield tmp_path
    loaders.load_dataset.clear()


def test_missing_data_says_which_button_to_click(empty_data_dir):
    app = run_page("app_pages/dataset.py")
    assert "MNIST digits is not on this server yet. Click *Fetch MNIST digits now* below" in app.error[0].value
    assert app.button(key="fetch_dataset").label == "Fetch MNIST digits now" and without_commands(texts(app))


def test_damaged_data_says_which_button_to_click(empty_data_dir):
    (empty_data_dir / "mnist").mkdir()
    for part, shape in datasets.FULL_SHAPES.items():
        np.save(empty_data_dir / "mnist" / f"{part}.npy", np.zeros(shape[:1] + (2,) * (len(shape) - 1), np.uint8))
    app = run_page("app_pages/dataset.py")
    assert "is damaged" in app.error[0].value and "Click *Fetch MNIST digits now* below" in app.error[0].value
    assert without_commands(texts(app))


@pytest.fixture
def damaged_model(models_dir):
    """A freshly stored model in an empty store, for a test to damage."""
    return train_and_store("mnist", epochs=1, name="to be damaged")


def test_a_damaged_model_file_gets_the_page_message(damaged_model, models_dir):
    (models_dir / damaged_model.id / "model.keras").write_bytes(b"not a keras file")
    data = datasets.load("mnist", subset="small")
    app = run_page("app_pages/draw.py", query={"model": damaged_model.id})
    app.file_uploader(key="draw_upload").set_value(("digit.png", png_bytes(data.x_test[0]), "image/png")).run()
    assert not app.exception and [error.value for error in app.error] == [concepts.DAMAGED_MODEL]
    app = run_page("app_pages/insight.py", query={"model": damaged_model.id})
    assert [error.value for error in app.error] == [concepts.DAMAGED_MODEL] and without_commands(texts(app))


def test_damaged_stored_predictions_get_the_page_message(damaged_model, models_dir):
    (models_dir / damaged_model.id / "test_probabilities.npy").write_bytes(b"cut short")
    app = run_page("app_pages/mistakes.py", query={"model": damaged_model.id})
    assert [error.value for error in app.error] == [concepts.DAMAGED_MODEL] and without_commands(texts(app))
