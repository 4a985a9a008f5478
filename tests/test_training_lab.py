"""The overfitting lab's data settings: a stratified subset of the training images and noisy training labels,
the validation (and test) images and labels untouched, and the old request keys kept for the defaults."""

import keras
import numpy as np
import pytest

from mnistlib import datasets, judging
from mnistlib.models import ModelSpec
from mnistlib.training import TrainRequest, lab_data, loop, worker


def test_the_subset_keeps_each_classes_share_and_is_seeded(rng):
    labels = np.repeat(np.arange(4, dtype=np.uint8), [400, 300, 200, 100])[rng.permutation(1000)]
    chosen = lab_data.stratified_indices(labels, 100, seed=3)
    assert len(np.unique(chosen)) == 100 and np.all(np.diff(chosen) > 0)
    assert np.bincount(labels[chosen], minlength=4).tolist() == [40, 30, 20, 10]
    assert np.array_equal(chosen, lab_data.stratified_indices(labels, 100, seed=3))
    assert not np.array_equal(chosen, lab_data.stratified_indices(labels, 100, seed=4))
    # The few left over by rounding go to the largest remainders: 37 of [400, 300, 200, 100] is 15, 11, 7, 4.
    assert np.bincount(labels[lab_data.stratified_indices(labels, 37, seed=0)]).tolist() == [15, 11, 7, 4]
    assert np.array_equal(lab_data.stratified_indices(labels, 5000, seed=0), np.arange(1000))


def test_noise_changes_exactly_that_fraction_each_to_another_class(rng):
    labels = rng.integers(0, 10, size=1000).astype(np.uint8)
    original = labels.copy()
    noisy, changed = lab_data.noisy_labels(labels, 0.3, 10, seed=0)
    assert np.array_equal(labels, original) and noisy.dtype == np.uint8
    assert len(changed) == 300 and np.flatnonzero(noisy != labels).tolist() == changed.tolist()
    # Every wrong class is drawn: about 300 / 9 = 33 of each (true label, new label) offset.
    offsets = (noisy[changed].astype(int) - labels[changed]) % 10
    assert set(offsets.tolist()) == set(range(1, 10))
    again, _ = lab_data.noisy_labels(labels, 0.3, 10, seed=0)
    assert np.array_equal(noisy, again)


def test_bad_settings_are_refused_with_a_sentence():
    for value, words in ((99, "at least 10 per class"), (2.5, "whole number"), (True, "whole number")):
        with pytest.raises(ValueError, match=words):
            lab_data.check_train_images(value, 10)
    for value in (-0.1, 0.9, float("nan"), "0.3", True):
        with pytest.raises(ValueError, match="Label noise must be a fraction from 0 to 0.8"):
            lab_data.check_label_noise(value)
    with pytest.raises(ValueError, match="at least 10 per class"):
        TrainRequest("mnist", ModelSpec(), epochs=1, subset="small", train_images=50)
    with pytest.raises(ValueError, match="at least one batch"):
        TrainRequest("mnist", ModelSpec(batch_size=256), epochs=1, subset="small", train_images=100)


def test_the_defaults_keep_the_key_and_the_request_of_today():
    plain = TrainRequest("mnist", ModelSpec(), epochs=2, subset="small")
    defaults = TrainRequest("mnist", ModelSpec(), epochs=2, subset="small", train_images=None, label_noise=0)
    assert defaults.key() == plain.key() and defaults.to_dict() == plain.to_dict()
    assert "train_images" not in plain.to_dict() and "label_noise" not in plain.to_dict()
    # The key as it was computed before these settings existed (version 1, same fields): stored models still match.
    import hashlib
    import json

    identity = {"version": 1, "dataset": "mnist", "subset": "small", "data": datasets.info("mnist").small_sha256,
                "spec": ModelSpec().to_dict(), "epochs": 2}
    assert plain.key() == hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]
    subset = TrainRequest("mnist", ModelSpec(), epochs=2, subset="small", train_images=500)
    noisy = TrainRequest("mnist", ModelSpec(), epochs=2, subset="small", label_noise=0.3)
    assert len({plain.key(), subset.key(), noisy.key()}) == 3
    assert TrainRequest.from_dict(noisy.to_dict()) == noisy and TrainRequest.from_dict(subset.to_dict()) == subset


@pytest.mark.parametrize("count", [100, 400])
def test_the_validation_part_is_the_same_held_out_images_whatever_the_subset(count):
    data = datasets.load("mnist", subset="small")
    spec = ModelSpec()
    (x_train, y_train), (x_val, y_val) = loop.split_validation(data.x_train, data.y_train, spec.validation_split)
    request = TrainRequest("mnist", spec, epochs=1, subset="small", train_images=count, label_noise=0.5)
    images, labels, changed = worker._lab_training_part(request, data)
    assert images.shape == (count, 28, 28) and images.dtype == np.uint8 and len(changed) == count // 2
    # Every image learned from comes from the training part, none from the validation part.
    training_rows = {row.tobytes() for row in x_train}
    assert all(image.tobytes() in training_rows for image in images)
    assert not {image.tobytes() for image in images} & {row.tobytes() for row in x_val}
    assert len(x_val) == 100 and np.array_equal(y_val, data.y_train[900:])


def test_a_lab_training_learns_from_the_subset_and_keeps_validation_and_test_labels():
    data = datasets.load("mnist", subset="small")
    request = TrainRequest("mnist", ModelSpec(), epochs=2, subset="small", train_images=200, label_noise=0.3)
    outcome = worker.train("lab-job", request.to_dict(), lambda event: None, lambda: False)
    assert outcome.kind == "Finished", outcome.message
    card = outcome.card
    assert (card["train_images"], card["label_noise"], card["labels_changed"]) == (200, 0.3, 60)
    assert card["request_key"] == request.key()
    # The card's validation and test accuracy are those of the model on the untouched labels.
    model = _load(outcome.model)
    _, (x_val, y_val) = loop.split_validation(data.x_train, data.y_train, 0.1)
    _, val_accuracy = loop.mean_loss_and_accuracy(loop.keras_predict(model, x_val), y_val)
    assert val_accuracy == pytest.approx(card["history"][-1]["val_accuracy"], abs=1e-6)
    _, test_accuracy = loop.mean_loss_and_accuracy(loop.keras_predict(model, data.x_test), data.y_test)
    assert test_accuracy == pytest.approx(card["test_accuracy"], abs=1e-9)
    # A second run of the same request learns the same model (same subset, same wrong labels).
    again = worker.train("lab-job-2", request.to_dict(), lambda event: None, lambda: False)
    assert [record["loss"] for record in again.card["history"]] == [record["loss"] for record in card["history"]]


def _load(model_bytes: bytes):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(model_bytes)
        return keras.saving.load_model(path)


def test_the_class_results_count_the_images_a_lab_model_learned_from():
    assert judging.images_learned_from(1000, 0.1) == 900
    assert judging.images_learned_from(1000, 0.1, train_images=200) == 200
    assert judging.images_learned_from(1000, 0.1, train_images=5000) == 900
    assert judging.images_learned_from(None, 0.1, train_images=200) == 200
