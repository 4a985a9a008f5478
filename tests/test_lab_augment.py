"""The overfitting lab's augmentation (issue 19): the resampling against numpy, the random ranges, the preview,
and the engine's augmented training — deterministic, different from plain training, never touching validation or
test images."""

import math

import numpy as np
import pytest
import tensorflow as tf

from mnistlib import datasets, models
from mnistlib.models import ModelSpec
from mnistlib.training import augment, fast_fit, loop


def test_warp_is_exact_for_whole_pixel_shifts_and_quarter_turns(rng):
    images = rng.integers(0, 256, size=(2, 28, 28)).astype(np.float32)
    identity = augment.warp(tf.constant(images), tf.constant([[0.0, 1.0, 0.0, 0.0]] * 2)).numpy()
    assert np.array_equal(identity, images)
    moved = augment.warp(tf.constant(images[:1]), tf.constant([[0.0, 1.0, 3 / 28, -2 / 28]])).numpy()[0]
    expected = np.zeros_like(images[0])
    expected[3:, :-2] = images[0, :-3, 2:]  # 3 pixels down, 2 to the left, black where nothing moved in
    assert np.allclose(moved, expected, atol=1e-3)
    turned = augment.warp(tf.constant(images[:1]), tf.constant([[math.pi / 2, 1.0, 0.0, 0.0]])).numpy()[0]
    assert np.allclose(turned, np.rot90(images[0]), atol=1e-2)


def test_the_random_transforms_stay_in_their_ranges():
    parameters = augment.random_parameters((10000,), tf.constant([0, 0])).numpy()
    limits = [math.radians(10), 0.1, 0.1, 0.1]
    centres = [0.0, 1.0, 0.0, 0.0]
    for column, (limit, centre) in enumerate(zip(limits, centres, strict=True)):
        values = parameters[:, column] - centre
        assert np.abs(values).max() <= limit + 1e-6 and np.abs(values).max() > 0.95 * limit


def test_the_preview_is_seeded_changes_the_images_and_checks_its_input():
    data = datasets.load("mnist", subset="small")
    samples = augment.augment_preview(data.x_train[:4], seed=0, count=12)
    assert samples.shape == (12, 28, 28) and samples.dtype == np.uint8
    assert np.array_equal(samples, augment.augment_preview(data.x_train[:4], seed=0, count=12))
    assert not np.array_equal(samples, augment.augment_preview(data.x_train[:4], seed=1, count=12))
    originals = data.x_train[np.arange(12) % 4]
    assert all(not np.array_equal(sample, original) for sample, original in zip(samples, originals, strict=True))
    with pytest.raises(ValueError, match="at least one image"):
        augment.augment_preview(np.zeros((0, 28, 28), np.uint8), 0, 3)
    with pytest.raises(ValueError, match="from 1 to 1000"):
        augment.augment_preview(data.x_train[:4], 0, 0)


def _train(spec, epochs, **settings):
    data = datasets.load("mnist", subset="small")
    result = loop.train(models.build(spec, l2=settings.get("l2", 0.0)), data, spec, epochs, lambda *_: None,
                        lambda *_: None, lambda: False, **settings)
    return result, [weights.copy() for weights in result["model"].get_weights()]


def test_augmentation_is_deterministic_changes_training_and_never_touches_validation_or_test():
    data = datasets.load("mnist", subset="small")
    before = (data.x_train.copy(), data.x_test.copy())
    fast_fit._compiled.clear()  # the first run compiles afresh; the second reuses the cached compiled functions
    first, first_weights = _train(ModelSpec(), 2, augment=True)
    second, second_weights = _train(ModelSpec(), 2, augment=True)
    assert all(np.array_equal(a, b) for a, b in zip(first_weights, second_weights, strict=True))
    assert first["history"] == second["history"]
    _, plain_weights = _train(ModelSpec(), 2)
    assert not all(np.array_equal(a, b) for a, b in zip(first_weights, plain_weights, strict=True))
    # Validation and test figures are those of the model on the images as they are.
    model = second["model"]
    _, (x_val, y_val) = loop.split_validation(data.x_train, data.y_train, 0.1)
    val_loss, val_accuracy = loop.mean_loss_and_accuracy(loop.keras_predict(model, x_val), y_val)
    assert (val_loss, val_accuracy) == pytest.approx(
        (second["history"][-1]["val_loss"], second["history"][-1]["val_accuracy"]), abs=1e-5)
    assert np.allclose(second["test_probabilities"][-1], loop.keras_predict(model, data.x_test), atol=2e-3)
    assert np.array_equal(before[0], data.x_train) and np.array_equal(before[1], data.x_test)


def test_the_notes_name_the_ranges_the_engine_uses():
    from mnistlib import concepts

    assert f"up to {augment.SHIFT:.0%} of its height and width" in concepts.note("augment")
    assert f"rotated (up to {augment.ROTATION_DEGREES:g}°)" in concepts.note("augment")
    assert f"a scale from {1 - augment.ZOOM:g} to {1 + augment.ZOOM:g}" in concepts.note("augment")
    assert "`loss_with_penalty`" in concepts.note("l2") and "restore_best_weights=True" in concepts.note(
        "early_stopping")
