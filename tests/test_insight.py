"""mnistlib.insight against references: Keras sub-models, tf.GradientTape, finite differences (the 2-D map:
test_hidden_space.py; the Streamlit elements: test_ui_insight.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mnistlib import datasets, evaluation, insight, models, store
from mnistlib import insight_figures as figures


@pytest.fixture(scope="module")
def data():
    return datasets.load("mnist", subset="small")


def trained(spec, data, epochs=1, num_classes=10):
    """A small model trained a little on the small subset, so its units are no longer random."""
    model = models.build(spec, num_classes)
    model.fit(data.x_train / 255.0, data.y_train % num_classes, epochs=epochs, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def dense_model(stored_mnist_model):
    return store.load_model(stored_mnist_model.id)


@pytest.fixture(scope="module")
def deep_model(data):
    return trained(models.ModelSpec(hidden_units=12, hidden_layers=2, dropout=0.1, seed=2), data, epochs=2)


@pytest.fixture(scope="module")
def cnn_model(data):
    return trained(models.ModelSpec(architecture="cnn", hidden_units=16, seed=1), data)


def keras_outputs(model, layer_input_of=-1):
    """A Keras functional model giving the input of a layer (default: the output layer), the usual recipe."""
    return keras.Model(model.inputs[0], model.layers[layer_input_of].input)


def numpy_probabilities(kernels, biases, inputs):
    """A one-hidden-layer network in float64 numpy: inputs (N, 784) 0–1 -> probabilities (N, classes)."""
    hidden = np.maximum(inputs @ kernels[0] + biases[0], 0)
    scores = hidden @ kernels[1] + biases[1]
    scores -= scores.max(axis=1, keepdims=True)
    return np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)


## Hidden activations and contributions


def test_hidden_activations_equal_numpy_and_a_keras_sub_model(dense_model, cnn_model, data):
    images = data.x_test[:50]
    kernel, bias = (np.asarray(w, np.float64) for w in dense_model.layers[1].get_weights())
    expected = np.maximum(images.reshape(50, -1) / 255.0 @ kernel + bias, 0)
    np.testing.assert_allclose(insight.hidden_activations(dense_model, images), expected, atol=1e-5)
    for model in (dense_model, cnn_model):
        reference = keras_outputs(model)(images / 255.0, training=False)
        activations = insight.hidden_activations(model, images)
        assert activations.dtype == np.float32 and activations.shape == (50, model.layers[-1].input.shape[-1])
        np.testing.assert_allclose(activations, reference, atol=1e-5)


@pytest.mark.parametrize("which", ["dense_model", "deep_model", "cnn_model"])
def test_contributions_plus_bias_are_the_pre_softmax_scores(which, request, data):
    model = request.getfixturevalue(which)
    for index in (0, 7, 33):
        image = data.x_test[index]
        pushes = insight.contributions(model, image)
        assert pushes.dtype == np.float32 and pushes.shape == (model.layers[-1].input.shape[-1], 10)
        scores = pushes.sum(axis=0) + insight.output_bias(model)
        hidden = np.asarray(keras_outputs(model)(image[None] / 255.0, training=False), np.float64)
        kernel, bias = (np.asarray(w, np.float64) for w in model.layers[-1].get_weights())
        np.testing.assert_allclose(scores, (hidden @ kernel + bias)[0], atol=1e-4)
        # And softmax of those scores is what Keras answers.
        expected = np.asarray(model(image[None] / 255.0, training=False))[0]
        np.testing.assert_allclose(np.exp(scores) / np.exp(scores).sum(), expected, atol=1e-5)


def test_a_model_with_other_class_counts_works(data):
    model = trained(models.ModelSpec(hidden_units=8, seed=3), data, num_classes=4)
    assert insight.contributions(model, data.x_test[0]).shape == (8, 4)
    explanation = insight.explain(model, data.x_test[0], ["a", "b", "c", "d"])
    assert explanation.probabilities.shape == (4,)
    with pytest.raises(ValueError, match="4 outputs but 10 class names"):
        insight.explain(model, data.x_test[0], data.class_names)


## Saliency


def test_saliency_equals_finite_differences_of_the_same_network(dense_model, data):
    kernels = [np.asarray(layer.get_weights()[0], np.float64) for layer in dense_model.layers[1:]]
    biases = [np.asarray(layer.get_weights()[1], np.float64) for layer in dense_model.layers[1:]]
    for index in (0, 1, 2):
        image = data.x_test[index]
        gradient = insight.saliency(dense_model, image[None])[0]
        inputs = image.reshape(1, -1) / 255.0
        predicted = int(numpy_probabilities(kernels, biases, inputs)[0].argmax())
        pixels = [*np.argsort(-np.abs(gradient).ravel())[:4], 0, 300, 405]  # the strongest, a corner, two inside
        step = 1e-4
        for pixel in pixels:
            up, down = inputs.copy(), inputs.copy()
            up[0, pixel] += step
            down[0, pixel] -= step
            estimate = (numpy_probabilities(kernels, biases, up)[0, predicted]
                        - numpy_probabilities(kernels, biases, down)[0, predicted]) / (2 * step)
            assert abs(gradient.ravel()[pixel] - estimate) <= 1e-6 + 1e-3 * abs(estimate)


@pytest.mark.parametrize("which", ["dense_model", "cnn_model"])
def test_saliency_equals_gradient_tape_on_the_keras_model(which, request, data):
    model = request.getfixturevalue(which)
    images = data.x_test[:6]
    inputs = tf.constant(images / 255.0, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        probabilities = model(inputs, training=False)
        chosen = tf.reduce_sum(probabilities * tf.one_hot(tf.argmax(probabilities, axis=1), 10), axis=1)
    expected = tape.gradient(chosen, inputs).numpy()
    ours = insight.saliency(model, images)
    assert ours.shape == (6, 28, 28) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, atol=1e-6)
    # For a chosen class, and gradient × input: zero wherever there is no ink.
    runner_up = np.argsort(-probabilities.numpy(), axis=1)[:, 1]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        chosen = tf.reduce_sum(model(inputs, training=False) * tf.one_hot(runner_up, 10), axis=1)
    np.testing.assert_allclose(insight.saliency(model, images, runner_up), tape.gradient(chosen, inputs), atol=1e-6)
    times_input = insight.gradient_times_input(model, images)
    np.testing.assert_allclose(times_input, ours * images / 255.0, atol=1e-7)
    assert not times_input[images == 0].any()


## Unit templates


def test_first_layer_templates_are_the_weights(dense_model, data):
    assert insight.templates_are_fixed(dense_model)
    kernel = dense_model.layers[1].get_weights()[0]
    templates = insight.unit_templates(dense_model, [37, 2])
    np.testing.assert_array_equal(templates, evaluation.first_layer_templates(kernel)[[37, 2]])
    # The same whatever the image, and also what the gradient of the unit's sum is.
    np.testing.assert_array_equal(insight.unit_templates(dense_model, [37], image=data.x_test[4])[0], templates[0])
    assert insight.unit_templates(dense_model).shape == (128, 28, 28)


def test_deeper_templates_are_the_units_linear_map_for_this_image(deep_model, data):
    assert not insight.templates_are_fixed(deep_model)
    with pytest.raises(ValueError, match="pass the image"):
        insight.unit_templates(deep_model, [0])
    image = data.x_test[3]
    (kernel1, bias1), (kernel2, _) = (deep_model.layers[i].get_weights() for i in (1, 3))
    active = (image.reshape(-1) / 255.0 @ kernel1 + bias1) > 0
    expected = (kernel1 * active) @ kernel2  # (784, units): the first layer's ReLUs as this image sets them
    templates = insight.unit_templates(deep_model, [0, 5, 11], image=image)
    np.testing.assert_allclose(templates, expected[:, [0, 5, 11]].T.reshape(3, 28, 28), atol=1e-5)


def test_cnn_templates_equal_gradient_tape_on_a_keras_sub_model(cnn_model, data):
    image = data.x_test[5]
    sub_model = keras.Model(cnn_model.inputs[0], cnn_model.layers[-3].input)  # what the last hidden Dense reads
    kernel, bias = cnn_model.layers[-3].get_weights()
    inputs = tf.constant(np.repeat(image[None] / 255.0, 3, axis=0), tf.float32)
    units = [0, 9, 15]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        sums = sub_model(inputs, training=False) @ kernel + bias
        chosen = tf.stack([sums[row, unit] for row, unit in enumerate(units)])
    expected = tape.gradient(chosen, inputs).numpy()
    np.testing.assert_allclose(insight.unit_templates(cnn_model, units, image=image), expected, atol=1e-7)


## CNN: feature maps and Grad-CAM


def test_feature_maps_are_the_convolution_outputs(cnn_model, dense_model, data):
    image = data.x_test[9]
    maps = insight.feature_maps(cnn_model, image)
    convolutions = [layer for layer in cnn_model.layers if type(layer).__name__ == "Conv2D"]
    assert [name for name, _ in maps] == [layer.name for layer in convolutions]
    for (_, values), layer in zip(maps, convolutions, strict=True):
        expected = keras.Model(cnn_model.inputs[0], layer.output)(image[None] / 255.0)[0]
        np.testing.assert_allclose(values, expected, atol=1e-5)
    assert maps[0][1].shape == (26, 26, 32) and maps[1][1].shape == (11, 11, 64)
    with pytest.raises(ValueError, match="no convolution layers"):
        insight.feature_maps(dense_model, image)


def test_grad_cam_equals_the_keras_io_recipe(cnn_model, data):
    last = [layer for layer in cnn_model.layers if type(layer).__name__ == "Conv2D"][-1]
    recipe = keras.Model(cnn_model.inputs[0], [last.output, cnn_model.layers[-1].input])
    kernel, bias = cnn_model.layers[-1].get_weights()
    for index in (0, 11):
        image = data.x_test[index][None] / 255.0
        with tf.GradientTape() as tape:
            maps, hidden = recipe(image)
            scores = hidden @ kernel + bias
            score = scores[0, int(tf.argmax(scores[0]))]
        weights = tf.reduce_mean(tape.gradient(score, maps), axis=(0, 1, 2))
        expected = np.maximum((maps[0] @ weights[:, None])[..., 0].numpy(), 0)
        coarse = insight.grad_cam(cnn_model, data.x_test[index], at_input_size=False)
        np.testing.assert_allclose(coarse, expected, atol=1e-6)
        full = insight.grad_cam(cnn_model, data.x_test[index])
        assert full.shape == (28, 28) and full.min() >= 0 and 0 < full.max() <= coarse.max() + 1e-6


def test_grad_cam_is_placed_over_the_pixels_each_position_sees(cnn_model):
    kinds = [type(layer).__name__ for layer in cnn_model.layers]
    last = len(kinds) - 1 - kinds[::-1].index("Conv2D")
    start, step = insight._receptive_centres(cnn_model.layers[: last + 1])
    assert (start, step) == (3.5, 2.0)  # 3×3 conv, 2×2 pool, 3×3 conv: position i sees pixels 2i … 2i+7
    coarse = np.zeros((11, 11))
    coarse[4, 7] = 1.0
    full = insight.upsample(coarse, start, step)
    rows, columns = np.nonzero(full == full.max())
    assert set(rows) == {11, 12} and set(columns) == {17, 18}  # the centre 2·4+3.5 = 11.5, 2·7+3.5 = 17.5


## One image explained, and bad input


def test_explanation_answers_like_the_model(cnn_model, dense_model, data):
    for model in (dense_model, cnn_model):
        for index in (0, 1, 2, 3):
            explanation = insight.explain(model, data.x_test[index], data.class_names)
            expected = np.asarray(model(data.x_test[index][None] / 255.0, training=False))[0]
            assert explanation.predicted == int(expected.argmax())
            np.testing.assert_allclose(explanation.probabilities, expected, atol=1e-6)
            assert explanation.runner_up == int(np.argsort(-expected)[1])
            for target in (explanation.predicted, explanation.runner_up):
                units = explanation.top_units(target)
                pushes = explanation.contributions[units, target]
                assert len(units) <= 6 and (pushes > 0).all() and (np.diff(pushes) <= 0).all()
    assert explanation.grad_cam is not None and explanation.grad_cam.shape == (28, 28)


def test_blank_unsure_and_layerless_models_are_explained_with_notes(data, dense_model):
    blank = insight.explain(dense_model, np.zeros((28, 28), np.uint8), data.class_names)
    assert "blank" in blank.notes[0] and not blank.gradient_times_input.any()
    assert np.isfinite(blank.saliency).all()
    untrained = models.build(models.ModelSpec(hidden_units=8, seed=5))  # answers about 10% for everything
    unsure = insight.explain(untrained, data.x_test[0], data.class_names)
    assert any(note.startswith("The model is unsure") for note in unsure.notes)
    layerless = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ValueError, match="no hidden Dense layer"):
        insight.hidden_activations(layerless, data.x_test[:2])
    explanation = insight.explain(layerless, data.x_test[0], data.class_names)
    assert explanation.contributions is None and len(explanation.top_units(0)) == 0
    assert any("no hidden Dense layer" in note for note in explanation.notes)


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 28, 27)), "shape"), (np.full((1, 28, 28), 300.0), "0 to 255"), (np.full((1, 28, 28), np.nan), "0 to 255"),
])
def test_wrong_images_are_refused_with_a_sentence(dense_model, images, message):
    with pytest.raises(ValueError, match=message):
        insight.saliency(dense_model, images)


def test_models_that_are_not_classifiers_are_refused(data):
    regression = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="not a softmax Dense layer"):
        insight.explain(regression, data.x_test[0], data.class_names)


## Figures and the Streamlit elements


def test_template_pictures_are_red_where_positive_and_blue_where_negative():
    template = np.zeros((1, 28, 28))
    template[0, 0, 0], template[0, 27, 27] = 2.0, -2.0
    picture = figures.template_pictures(template, scale=2)[0]
    assert picture.shape == (58, 58, 3) and picture.dtype == np.uint8
    red, blue, middle = picture[1, 1], picture[-2, -2], picture[29, 29]
    assert red[0] > 200 > red[2] and blue[2] > 200 > blue[0] and middle.min() > 240


def test_saliency_overlay_is_symmetric_around_zero(data, dense_model):
    explanation = insight.explain(dense_model, data.x_test[0], data.class_names)
    figure = figures.saliency_figure(data.x_test[0], explanation.saliency, explanation.gradient_times_input, "7")
    overlays = [trace for trace in figure.data if trace.colorscale[0][1] != "#ffffff"]
    assert len(overlays) == 2 and all(trace.zmin == -trace.zmax > -np.inf for trace in overlays)
    assert overlays[0].zmax == pytest.approx(np.abs(explanation.saliency).max())
