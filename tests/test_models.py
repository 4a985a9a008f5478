"""ModelSpec validation, the default network exactly as the seed's, and the TensorFlow-free summary."""

import subprocess
import sys

import pytest

from mnistlib import models


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"architecture": "rnn"}, "Architecture must be one of dense, cnn"),
        ({"hidden_units": 0}, "Hidden units must be a whole number"),
        ({"hidden_units": 64.5}, "Hidden units must be a whole number"),
        ({"hidden_layers": 9}, "Hidden layers must be"),
        ({"dropout": 1.0}, "Dropout is a fraction"),
        ({"dropout": 0.93}, "from 0 up to 0.9"),
        ({"optimizer": "lbfgs"}, "Optimizer must be one of adam, sgd, rmsprop"),
        ({"learning_rate": 0}, "Learning rate must be between"),
        ({"learning_rate": float("nan")}, "Learning rate must be between"),
        ({"batch_size": True}, "Batch size must be"),
        ({"validation_split": 0.9}, "Validation split is a fraction"),
        ({"seed": -1}, "Seed must be"),
    ],
)
def test_invalid_specs_explain_themselves(settings, message):
    with pytest.raises(ValueError, match=message):
        models.ModelSpec(**settings)


def test_from_dict_refuses_unknown_keys_and_round_trips():
    spec = models.ModelSpec(architecture="cnn", hidden_units=64, dropout=0.2)
    assert models.ModelSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match="Unknown model setting"):
        models.ModelSpec.from_dict({"units": 3})
    assert spec.describe() == "CNN + Dense 64 ×1, dropout 0.2, adam lr 0.001"


def test_importing_models_does_not_import_tensorflow():
    code = "import sys, mnistlib.models, mnistlib.training, mnistlib.store, mnistlib.plots; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_default_model_is_the_seed_network():
    import keras

    model = models.build(models.ModelSpec())
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds == ["Flatten", "Dense", "Dense"]
    assert model.input_shape == (None, 28, 28)
    flatten, hidden, output = model.layers
    assert hidden.units == 128 and hidden.activation is keras.activations.relu
    assert output.units == 10 and output.activation is keras.activations.softmax
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)
    assert model.loss == "sparse_categorical_crossentropy"
    assert model.count_params() == 101_770


@pytest.mark.parametrize(
    "spec",
    [
        models.ModelSpec(),
        models.ModelSpec(hidden_layers=3, hidden_units=32, dropout=0.5, optimizer="sgd"),
        models.ModelSpec(architecture="cnn"),
        models.ModelSpec(architecture="cnn", hidden_layers=2, dropout=0.25, optimizer="rmsprop"),
    ],
)
def test_summary_matches_keras(spec):
    model = models.build(spec)
    rows = models.summary(spec)
    assert [row.output_shape for row in rows] == [tuple(layer.output.shape[1:]) for layer in model.layers]
    assert [row.parameters for row in rows] == [layer.count_params() for layer in model.layers]
    assert [row.kind for row in rows] == [layer.__class__.__name__ for layer in model.layers]
    assert models.count_parameters(spec) == model.count_params()


def test_optimizer_choice_reaches_keras():
    import keras

    model = models.build(models.ModelSpec(optimizer="rmsprop", learning_rate=0.01))
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)


@pytest.mark.parametrize("spec", [models.ModelSpec(), models.ModelSpec(architecture="cnn", hidden_layers=2)])
def test_summary_names_are_kerass_in_a_fresh_session(spec):
    """The names a student sees from model.summary() of the code shown, run once in a fresh interpreter."""
    import json
    import subprocess
    import sys

    code = ("import json, sys; from mnistlib import models; "
            "spec = models.ModelSpec(**json.loads(sys.argv[1])); "
            "print(json.dumps([layer.name for layer in models.build(spec).layers]))")
    settings = {"architecture": spec.architecture, "hidden_layers": spec.hidden_layers}
    names = subprocess.run([sys.executable, "-c", code, json.dumps(settings)], capture_output=True, text=True,
                           check=True).stdout.strip().splitlines()[-1]
    assert [row.name for row in models.summary(spec)] == json.loads(names)
