"""The compiled training loop: a worker reuses compiled functions across jobs of one architecture, and the result
is bit-identical to training a fresh model."""

import numpy as np
import pytest

from mnistlib import datasets, models
from mnistlib.training import fast_fit, loop


def run(spec, epochs=2):
    data = datasets.load("mnist", subset="small")
    result = loop.train(models.build(spec), data, spec, epochs, lambda *_: None, lambda *_: None, lambda: False)
    return result["history"], [weight.copy() for weight in result["model"].get_weights()], result


@pytest.mark.parametrize("settings", [{}, {"dropout": 0.3, "optimizer": "rmsprop"}])
def test_a_reused_compiled_model_trains_exactly_like_a_fresh_one(settings):
    fast_fit._compiled.clear()
    run(models.ModelSpec(seed=1, learning_rate=0.003, **settings))  # compiles and leaves a trained model cached
    reused_history, reused_weights, reused = run(models.ModelSpec(seed=2, **settings))
    assert len(fast_fit._compiled) == 1  # the second job reused the first one's compiled functions
    fast_fit._compiled.clear()
    fresh_history, fresh_weights, _ = run(models.ModelSpec(seed=2, **settings))
    assert reused_history == fresh_history
    for reused_weight, fresh_weight in zip(reused_weights, fresh_weights, strict=True):
        np.testing.assert_array_equal(reused_weight, fresh_weight)
    assert float(reused["model"].optimizer.learning_rate) == pytest.approx(0.001)


def test_precompiling_leaves_the_model_untouched():
    fast_fit._compiled.clear()
    spec = models.ModelSpec(seed=3)
    model = models.build(spec)
    fast = fast_fit.compiled_for(model, spec)
    before = [variable.numpy().copy() for variable in (*fast.model.variables, *fast.model.optimizer.variables)]
    fast.precompile(900)
    after = [variable.numpy() for variable in (*fast.model.variables, *fast.model.optimizer.variables)]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)


def test_the_cache_keeps_only_the_latest_architectures():
    fast_fit._compiled.clear()
    for units in (8, 16, 32, 64, 128):
        spec = models.ModelSpec(hidden_units=units)
        fast_fit.compiled_for(models.build(spec), spec)
    assert len(fast_fit._compiled) == fast_fit.CACHED_ARCHITECTURES
    assert [dict(key)["hidden_units"] for key in fast_fit._compiled] == [16, 32, 64, 128]


def test_the_hidden_map_keeps_every_kth_epoch_and_the_last_within_its_budget(monkeypatch):
    monkeypatch.setattr(loop, "MAP_BUDGET_BYTES", 3 * 200 * 128 * 2)  # room for three epochs of 200 images
    hidden_map = loop.HiddenMap(epochs=7, images=200, units=128)
    rng = np.random.default_rng(0)
    for epoch in range(1, 6):  # stopped after epoch 5 of 7
        hidden_map.add(epoch, rng.random((200, 128)).astype(np.float16))
    result = hidden_map.result()
    assert hidden_map.stride == 3 and result["epochs"] == [3, 5]
    assert result["points"].shape == (2, 200, 2) and result["points"].dtype == np.float16


@pytest.mark.parametrize("size", [1000, 837, 12_345, 60_000])
def test_the_validation_split_is_the_one_keras_fit_makes(size):
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split

    images, labels = np.arange(size)[:, None], np.arange(size)
    for fraction in (0.05, 0.1, 0.15, 0.3, 0.5):
        (ours, _), (held_back, _) = loop.split_validation(images, labels, fraction)
        (theirs, _), (theirs_held_back, _) = train_validation_split((images, labels), validation_split=fraction)
        assert len(ours) == len(theirs) and len(held_back) == len(theirs_held_back)


@pytest.mark.parametrize("count", [200, 1000, 2345])
def test_keras_predict_gives_exactly_what_model_predict_gives(count, rng):
    spec = models.ModelSpec(seed=5)
    model = models.build(spec)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    expected = model.predict(images.astype("float32") / 255.0, batch_size=loop.PREDICT_BATCH, verbose=0)
    np.testing.assert_array_equal(loop.keras_predict(model, images), expected)


def test_the_training_images_stay_resident_for_the_next_job_on_the_same_split():
    data = datasets.load("mnist", subset="small")
    loop._resident.clear()
    images, labels = loop.resident(data.x_train, data.y_train, 0.1)
    (expected_images, expected_labels), _ = loop.split_validation(data.x_train, data.y_train, 0.1)
    np.testing.assert_array_equal(images.numpy(), expected_images)
    np.testing.assert_array_equal(labels.numpy(), expected_labels)
    assert loop.resident(data.x_train, data.y_train, 0.1)[0] is images  # not copied again
    assert len(loop.resident(data.x_train, data.y_train, 0.2)[0]) == 800
    loop.resident(data.x_train, data.y_train, 0.3)
    assert len(loop._resident) == loop.RESIDENT_SPLITS and loop.resident(data.x_train, data.y_train, 0.1)[0] is not images


def test_warm_up_leaves_the_quick_starts_training_compiled_and_its_data_resident(monkeypatch):
    from mnistlib.training import worker

    monkeypatch.setenv("MNISTLIB_SUBSET", "small")
    fast_fit._compiled.clear()
    loop._resident.clear()
    worker.warm_up()
    spec = models.ModelSpec()
    data = worker.dataset("mnist", "small")
    assert list(fast_fit._compiled) == [fast_fit.architecture_key(spec, len(data.class_names))]
    images, _ = loop.resident(data.x_train, data.y_train, spec.validation_split)
    assert len(loop._resident) == 1 and len(images) == 900  # already there: the first job copies nothing
