"""The overfitting lab's training settings (issue 19): L2 weight decay, augmentation and early stopping in the
request and its key, L2 and early stopping in the engine, on the card and in the CLI (augmentation's engine part:
test_lab_augment.py)."""


import keras
import numpy as np
import pytest
import tensorflow as tf

from mnistlib import cli, config, datasets, models
from mnistlib.models import ModelSpec
from mnistlib.training import TrainRequest, early_stopping, fast_fit, loop, worker

# Keys computed once on main (commit 3dced50, before these settings existed) for requests without them.
KEY_ON_MAIN_FULL = "c293b29dd5820d4ce76e282c16d334e9"  # TrainRequest("mnist", ModelSpec(), 5, subset="full")
KEY_ON_MAIN_SMALL = "1b0aac8ed71ac6c5ebeb47a7921fb36e"  # … subset="small"
KEY_ON_MAIN_SUBSET = "bb59c823baec612e01744178b14271c6"  # … subset="small", train_images=500


## The request


def test_requests_without_the_new_settings_keep_the_keys_they_had_on_main():
    assert TrainRequest("mnist", ModelSpec(), 5, subset="full").key() == KEY_ON_MAIN_FULL
    assert TrainRequest("mnist", ModelSpec(), 5, subset="small").key() == KEY_ON_MAIN_SMALL
    assert TrainRequest("mnist", ModelSpec(), 5, subset="small", train_images=500).key() == KEY_ON_MAIN_SUBSET
    defaults = TrainRequest("mnist", ModelSpec(), 5, subset="small", l2=0, augment=False, early_stopping=None)
    assert defaults.key() == KEY_ON_MAIN_SMALL and defaults.lab_settings() == {}
    assert not {"l2", "augment", "early_stopping"} & set(defaults.to_dict())


def test_each_setting_changes_the_key_and_survives_to_dict_and_from_dict():
    plain = TrainRequest("mnist", ModelSpec(), 5, subset="small")
    changed = [TrainRequest("mnist", ModelSpec(), 5, subset="small", l2=0.01),
               TrainRequest("mnist", ModelSpec(), 5, subset="small", augment=True),
               TrainRequest("mnist", ModelSpec(), 5, subset="small", early_stopping=3),
               TrainRequest("mnist", ModelSpec(), 5, subset="small", l2=0.001, augment=True, early_stopping=5,
                            train_images=500, label_noise=0.3)]
    assert len({plain.key(), *(request.key() for request in changed)}) == 5
    for request in changed:
        again = TrainRequest.from_dict(request.to_dict())
        assert again == request and again.key() == request.key()
    assert changed[3].lab_settings() == {"train_images": 500, "label_noise": 0.3, "l2": 0.001, "augment": True,
                                         "early_stopping": 5}


@pytest.mark.parametrize("settings, message", [
    ({"l2": -0.001}, "L2 weight decay must be a number from 0 to 0.1 (got -0.001)."),
    ({"l2": 0.2}, "L2 weight decay must be a number from 0 to 0.1 (got 0.2)."),
    ({"l2": float("nan")}, "L2 weight decay must be a number from 0 to 0.1 (got nan)."),
    ({"l2": float("inf")}, "L2 weight decay must be a number from 0 to 0.1 (got inf)."),
    ({"l2": "0.01"}, "L2 weight decay must be a number from 0 to 0.1 (got 0.01)."),
    ({"augment": 1}, "Augment must be true or false (got 1)."),
    ({"augment": "yes"}, "Augment must be true or false (got 'yes')."),
    ({"early_stopping": 0}, "Early stopping's patience must be a whole number of epochs, at least 1 (got 0)."),
    ({"early_stopping": 2.5}, "Early stopping's patience must be a whole number of epochs, at least 1 (got 2.5)."),
    ({"early_stopping": True}, "Early stopping's patience must be a whole number of epochs, at least 1 (got True)."),
])
def test_bad_settings_are_refused_with_one_sentence(settings, message):
    with pytest.raises(ValueError) as raised:
        TrainRequest("mnist", ModelSpec(), 5, subset="small", **settings)
    assert str(raised.value) == message


def test_early_stopping_needs_a_validation_split():
    with pytest.raises(ValueError, match="needs a validation split above 0"):
        TrainRequest("mnist", ModelSpec(validation_split=0.0), 5, subset="small", early_stopping=2)


## L2 weight decay


def test_the_l2_step_reports_the_loss_without_the_penalty_and_the_penalty_apart():
    data = datasets.load("mnist", subset="small")
    model = models.build(ModelSpec(), l2=0.01)
    images, labels = data.x_train[:32], data.y_train[:32]
    # References from the model before its one step: Keras's loss and 0.01 × the sum of the squared kernels.
    probabilities = model(images.astype(np.float32) / 255.0, training=False)
    expected_loss = float(keras.losses.sparse_categorical_crossentropy(labels, probabilities).numpy().mean())
    expected_penalty = 0.01 * sum(float(np.sum(np.square(layer.kernel.numpy()))) for layer in model.layers
                                  if hasattr(layer, "kernel"))
    fast = fast_fit.FastFit(model, 32, seed=0)
    loss, _ = fast.run_epoch(tf.constant(images), tf.constant(labels.astype(np.int32)), lambda *_: None, lambda: False)
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    assert fast.epoch_penalty == pytest.approx(expected_penalty, rel=1e-4) and expected_penalty > 0.1


def test_l2_changes_the_weights_records_both_losses_and_saves_a_plain_keras_model():
    data = datasets.load("mnist", subset="small")
    plain = worker.train("plain", TrainRequest("mnist", ModelSpec(), 2, subset="small").to_dict(),
                         lambda event: None, lambda: False)
    request = TrainRequest("mnist", ModelSpec(), 2, subset="small", l2=0.01)
    decayed = worker.train("l2", request.to_dict(), lambda event: None, lambda: False)
    assert decayed.kind == "Finished", decayed.message
    for record in decayed.card["history"]:
        assert record["loss_with_penalty"] > record["loss"] > 0
    assert all("loss_with_penalty" not in record for record in plain.card["history"])
    assert decayed.card["lab"] == {"l2": 0.01} and "lab" not in plain.card
    model, plain_model = _load(decayed.model), _load(plain.model)
    assert [layer.kernel_regularizer.l2 for layer in model.layers if hasattr(layer, "kernel")] == \
        pytest.approx([0.01, 0.01])
    # Weight decay keeps the kernels smaller than the same training without it.
    assert np.sum(np.square(model.layers[-1].kernel.numpy())) < np.sum(np.square(plain_model.layers[-1].kernel.numpy()))
    # The validation loss is the plain cross-entropy of the saved model, without the penalty.
    _, (x_val, y_val) = loop.split_validation(data.x_train, data.y_train, 0.1)
    val_loss, _ = loop.mean_loss_and_accuracy(loop.keras_predict(model, x_val), y_val)
    assert val_loss == pytest.approx(decayed.card["history"][-1]["val_loss"], abs=1e-5)


## Early stopping


@pytest.mark.parametrize("losses", [
    [1.0, 0.8, 0.9, 0.95, 0.7, 0.75, 0.76, 0.77, 0.6],
    [1.0, 1.0, 1.0, 1.0],  # equal is not better
    [3.0, 2.0, 1.0, 0.5],  # never stops
    [0.5, 0.6, 0.4, 0.41, 0.39, 0.5, 0.6, 0.7],
])
def test_early_stopping_stops_and_keeps_the_epoch_keras_would(losses):
    patience = 3
    reference = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    model = keras.Sequential([keras.layers.Input((1,)), keras.layers.Dense(1)])
    model.stop_training = False  # what fit sets before its first epoch
    reference.set_model(model)
    reference.on_train_begin()
    ours = early_stopping.EarlyStopping(patience)
    for epoch, loss in enumerate(losses, start=1):
        model.layers[0].bias.assign([float(epoch)])  # the weights say which epoch they are from
        reference.on_epoch_end(epoch - 1, {"val_loss": loss})
        assert ours.should_stop(epoch, loss, model.get_weights()) == model.stop_training
        if model.stop_training:
            break
    assert ours.best_epoch == reference.best_epoch + 1
    assert ours.best_weights[1].tolist() == reference.best_weights[1].tolist() == [ours.best_epoch]


def test_early_stopping_sentences():
    assert early_stopping.outcome_sentence(9, 6, 30) == "Stopped early at epoch 9; kept the weights of epoch 6."
    assert "did not stop before the last epoch (30); kept the weights of epoch 27" in \
        early_stopping.outcome_sentence(30, 27, 30)
    assert "lowest at the last epoch (30)" in early_stopping.outcome_sentence(30, 30, 30)


def test_a_run_whose_validation_loss_rises_stops_early_and_keeps_the_best_epoch():
    data = datasets.load("mnist", subset="small")
    # 200 images at a high learning rate: the validation loss soon turns up (it memorises them).
    request = TrainRequest("mnist", ModelSpec(learning_rate=0.003), 40, subset="small", train_images=200,
                           early_stopping=3)
    outcome = worker.train("early", request.to_dict(), lambda event: None, lambda: False)
    assert outcome.kind == "Finished", outcome.message
    history, lab = outcome.card["history"], outcome.card["lab"]
    val_losses = [record["val_loss"] for record in history]
    best = int(np.argmin(val_losses)) + 1
    assert lab == {"early_stopping": 3, "stopped_epoch": len(history), "best_epoch": best}
    assert len(history) < 40 and len(history) - best == 3 and outcome.card["epochs_run"] == len(history)
    assert outcome.message == f"Stopped early at epoch {len(history)}; kept the weights of epoch {best}."
    # The saved model is the best epoch's: its validation loss is that epoch's, lower than the last one's.
    _, (x_val, y_val) = loop.split_validation(data.x_train, data.y_train, 0.1)
    val_loss, _ = loop.mean_loss_and_accuracy(loop.keras_predict(_load(outcome.model), x_val), y_val)
    assert val_loss == pytest.approx(val_losses[best - 1], abs=1e-5) and val_loss < val_losses[-1]


## The CLI


@pytest.mark.parametrize("flags, line", [
    (["--l2", "-1"], "error: L2 weight decay must be a number from 0 to 0.1 (got -1.0)."),
    (["--l2", "0.5"], "error: L2 weight decay must be a number from 0 to 0.1 (got 0.5)."),
    (["--early-stopping", "0"],
     "error: Early stopping's patience must be a whole number of epochs, at least 1 (got 0)."),
    (["--early-stopping", "2", "--validation-split", "0"],
     "error: Early stopping watches the validation loss: it needs a validation split above 0."),
])
def test_the_cli_refuses_bad_values_with_one_line(flags, line, models_dir, capsys):
    assert cli.main(["train", "--subset", "small", "--epochs", "1", *flags]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [line] and "Training" not in captured.out
    assert list(models_dir.iterdir()) == []


def test_the_cli_refuses_a_patience_that_is_not_whole(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["train", "--subset", "small", "--early-stopping", "2.5"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: argument --early-stopping: invalid int value: '2.5' (see python -m mnistlib train --help)"]


def test_the_cli_trains_with_the_new_settings_and_stores_them_on_the_card(models_dir):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "MNISTLIB_MODELS_DIR": str(models_dir), "MNISTLIB_MAX_TRAININGS": "1",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "mnistlib", "train", "--subset", "small", "--epochs", "40",
                             "--train-images", "200", "--learning-rate", "0.003", "--l2", "0.0001", "--augment",
                             "--early-stopping", "2"], capture_output=True, text=True, env=env, timeout=300,
                            cwd=config.REPO_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ("L2 weight decay 0.0001, training images randomly shifted, rotated and zoomed, early stopping after 2 "
            "epochs without a lower validation loss") in result.stdout
    cards = [json.loads(path.read_text()) for path in models_dir.glob("*/card.json")]
    assert len(cards) == 1
    lab = cards[0]["lab"]
    assert (lab["l2"], lab["augment"], lab["early_stopping"]) == (0.0001, True, 2)
    assert lab["stopped_epoch"] == cards[0]["epochs_run"] and 1 <= lab["best_epoch"] <= lab["stopped_epoch"]
    assert early_stopping.outcome_sentence(lab["stopped_epoch"], lab["best_epoch"], 40) in result.stdout


def _load(model_bytes: bytes):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(model_bytes)
        return keras.saving.load_model(path)


def test_the_store_keeps_the_lab_section_and_leaves_it_out_of_other_cards(models_dir):
    import json

    from mnistlib import store

    fields = {"name": "lab card", "dataset": "mnist", "subset": "small", "spec": ModelSpec().to_dict(),
              "epochs_run": 9, "history": [], "test_loss": 0.4, "test_accuracy": 0.9, "training_seconds": 1.0,
              "test_size": 3}
    lab = {"l2": 0.01, "augment": True, "early_stopping": 3, "stopped_epoch": 9, "best_epoch": 6}
    model = models.build(ModelSpec(), l2=0.01)
    probabilities = np.full((1, 3, 10), 0.1, np.float16)
    with_lab = store.save(model, {**fields, "lab": lab}, probabilities)
    without = store.save(model, fields, probabilities)
    assert store.load_card(with_lab.id).lab == lab and store.load_card(without.id).lab is None
    assert "lab" not in json.loads((models_dir / without.id / "card.json").read_text())
    loaded = store.load_model(with_lab.id)  # a plain Keras model, its kernels still regularised
    assert loaded.layers[-1].kernel_regularizer.l2 == pytest.approx(0.01)
