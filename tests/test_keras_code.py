"""The Keras source from keras_code runs and makes the very model models.build(spec) makes."""

import numpy as np
import pytest

from mnistlib import keras_code, models

SPECS = {
    "default": models.ModelSpec(),
    "deep dense with dropout": models.ModelSpec(hidden_units=64, hidden_layers=3, dropout=0.3, optimizer="sgd",
                                                learning_rate=0.05, batch_size=64, validation_split=0.2, seed=11),
    "cnn": models.ModelSpec(architecture="cnn", hidden_units=32, optimizer="rmsprop", learning_rate=1e-05, seed=7),
}


def run_model_code(spec: models.ModelSpec, num_classes: int = 10):
    """The model that model_code + compile_code make when executed as written."""
    namespace = {}
    exec(keras_code.model_code(spec, num_classes) + keras_code.compile_code(spec), namespace)
    return namespace["model"]


def describe_layers(model) -> list[tuple]:
    """(class, output shape, parameters, activation, dropout rate) for each layer."""
    return [
        (type(layer).__name__, tuple(layer.output.shape), layer.count_params(),
         getattr(getattr(layer, "activation", None), "__name__", None), getattr(layer, "rate", None))
        for layer in model.layers
    ]


@pytest.mark.parametrize("name", SPECS)
def test_code_makes_the_model_build_makes(name):
    spec = SPECS[name]
    ours, reference = run_model_code(spec), models.build(spec)
    assert describe_layers(ours) == describe_layers(reference)
    assert ours.count_params() == reference.count_params() == models.count_parameters(spec)
    assert type(ours.optimizer) is type(reference.optimizer)
    assert float(ours.optimizer.learning_rate) == pytest.approx(spec.learning_rate, rel=1e-6)
    assert float(ours.optimizer.learning_rate) == float(reference.optimizer.learning_rate)
    assert ours.loss == reference.loss == "sparse_categorical_crossentropy"
    # The same seed before the same layers in the same order gives the same starting weights.
    for our_weights, reference_weights in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(our_weights, reference_weights)


def test_dropout_appears_where_build_puts_it():
    layer_kinds = [row[0] for row in describe_layers(run_model_code(SPECS["deep dense with dropout"]))]
    assert layer_kinds == ["Flatten"] + ["Dense", "Dropout"] * 3 + ["Dense"]
    rates = [row[4] for row in describe_layers(run_model_code(SPECS["deep dense with dropout"])) if row[4]]
    assert rates == pytest.approx([0.3] * 3)


def test_output_layer_follows_the_number_of_classes():
    model = run_model_code(models.ModelSpec(hidden_units=16), num_classes=3)
    assert tuple(model.layers[-1].output.shape) == (None, 3)
    with pytest.raises(ValueError, match="2 to 20"):
        keras_code.model_code(models.ModelSpec(), num_classes=1)


def test_fit_code_trains_with_the_spec_settings(rng):
    spec = SPECS["deep dense with dropout"]
    namespace = {"x_train": rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
                 "y_train": rng.integers(0, 10, 40).astype(np.uint8)}
    fit = keras_code.fit_code(spec, 2)
    assert fit.endswith(",\n)\n") and "verbose" not in fit
    quiet_fit = fit.removesuffix(")\n") + "    verbose=0,\n)\n"
    exec(keras_code.model_code(spec) + keras_code.compile_code(spec) + "history = " + quiet_fit, namespace)
    history = namespace["history"]
    assert history.params["epochs"] == 2
    assert len(history.history["val_loss"]) == 2  # validation_split made a validation set
    # 40 images, 20% held back: 32 left, one step of 64 per epoch.
    assert history.params["steps"] == 1
    with pytest.raises(ValueError, match="Epochs"):
        keras_code.fit_code(spec, 0)


def test_evaluate_and_data_code():
    assert "keras.datasets.fashion_mnist.load_data()" in keras_code.data_code("fashion_mnist")
    with pytest.raises(ValueError, match="keras.datasets has no"):
        keras_code.data_code("my_digits")
    spec = models.ModelSpec(hidden_units=8)
    namespace = {"x_test": np.zeros((5, 28, 28), np.uint8), "y_test": np.zeros(5, np.uint8)}
    exec(keras_code.model_code(spec) + keras_code.compile_code(spec) + keras_code.evaluate_code(), namespace)
    assert 0.0 <= namespace["test_accuracy"] <= 1.0


def test_code_is_plain_keras_without_mnistlib():
    code = keras_code.model_code(SPECS["cnn"]) + keras_code.compile_code(SPECS["cnn"])
    assert "mnistlib" not in code
    assert code.startswith("import keras\nfrom keras import layers\n")
    assert "import" not in keras_code.model_code(SPECS["cnn"], imports=False)
