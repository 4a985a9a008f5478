"""Inside a trained network: hidden activations, what each unit contributes, saliency, Grad-CAM and a 2-D map.

Works on the Keras Sequential models of mnistlib.models.build (…Dense(units, relu) → Dense(classes, softmax)),
running their layers one by one (mnistlib.network_parts) so any intermediate value can be read or differentiated.
Inputs are images (N, 28, 28) uint8 0–255, scaled to 0–1 as in training. TensorFlow is imported inside the
functions. The 2-D map's PCA is mnistlib.hidden_space, re-exported here.
"""

from dataclasses import dataclass

import numpy as np

from mnistlib.hidden_space import Projection, fit_projection, hidden_space, project_2d
from mnistlib.network_parts import (
    BATCH,
    IMAGE_SHAPE,
    Structure,
    batched,
    one_image,
    pre_activation,
    require_hidden,
    run_layers,
    scaled,
    structure,
)

__all__ = ["Explanation", "Projection", "Structure", "contributions", "explain", "feature_maps", "fit_projection",
           "grad_cam", "gradient_times_input", "hidden_activations", "hidden_activations_per_epoch", "hidden_space",
           "output_bias", "project_2d", "saliency", "structure", "templates_are_fixed", "unit_templates", "upsample"]


## The hidden layer and the output layer


def hidden_activations(model, images) -> np.ndarray:
    """The last hidden layer's outputs (the output layer's inputs): images (N, 28, 28) uint8 -> (N, units) float32."""
    parts = structure(model)
    hidden = require_hidden(parts)
    units = parts.layers[hidden].units
    return batched(lambda batch: run_layers(parts.layers[: parts.output], batch), scaled(images), units)


def contributions(model, image) -> np.ndarray:
    """Each hidden unit's push on each class score: activation × output weight, (units, classes) float32.

    Summed over units plus the output bias, they give the scores before softmax.
    """
    parts = structure(model)
    require_hidden(parts)
    activations = np.asarray(run_layers(parts.layers[: parts.output], one_image(image)), np.float32)[0]  # (units,)
    kernel = np.asarray(parts.layers[parts.output].kernel, np.float32)  # (units, classes)
    return activations[:, None] * kernel


def output_bias(model) -> np.ndarray:
    """The output layer's bias, (classes,) float32."""
    parts = structure(model)
    return np.asarray(parts.layers[parts.output].bias, np.float32)


def unit_templates(model, units=None, image=None) -> np.ndarray:
    """Each chosen hidden unit's 28×28 template, (len(units), 28, 28) float32 (all units when units is None).

    The template is the gradient of the unit's weighted sum (before ReLU) with respect to the pixels (0–1):
    for a network with one hidden layer it is the unit's own weights, the same for every image; behind other
    layers (a second Dense layer, convolutions) it is what the unit computes from *this* image's pixels with
    the earlier ReLUs and poolings fixed as this image sets them, so an image is required.
    """
    import tensorflow as tf

    parts = structure(model)
    hidden = require_hidden(parts)
    layer = parts.layers[hidden]
    chosen = np.arange(layer.units) if units is None else np.asarray(units, np.int64).reshape(-1)
    if len(chosen) and (chosen.min() < 0 or chosen.max() >= layer.units):
        raise ValueError(f"Units are numbered 0 to {layer.units - 1}.")
    if templates_are_fixed(model):
        kernel = np.asarray(layer.kernel, np.float32)  # (784, units)
        return kernel[:, chosen].T.reshape(-1, *IMAGE_SHAPE)
    if image is None:
        raise ValueError("Units behind other layers have a different template for each image: pass the image.")
    inputs = tf.constant(np.repeat(one_image(image), len(chosen), axis=0))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        # Copy k of the image is differentiated for unit chosen[k]: one backward pass for all units.
        own = tf.gather(pre_activation(parts, inputs), chosen, axis=1, batch_dims=1)
    return np.asarray(tape.gradient(own, inputs), np.float32)


def templates_are_fixed(model) -> bool:
    """True when the last hidden layer reads the pixels directly (Flatten → Dense), so its weights are templates."""
    parts = structure(model)
    hidden = require_hidden(parts)
    return hidden == parts.first_hidden and not parts.convolutions


## Which pixels made the answer


def saliency(model, images, classes=None) -> np.ndarray:
    """Gradient of a class's probability (default: each image's predicted class) with respect to the pixels
    scaled 0–1: images (N, 28, 28) uint8 -> (N, 28, 28) float32; positive where more ink would raise it."""
    import tensorflow as tf

    parts = structure(model)
    inputs = scaled(images)
    chosen = None if classes is None else np.broadcast_to(np.asarray(classes, np.int64), (len(inputs),))

    def gradients(start: int) -> np.ndarray:
        batch = tf.constant(inputs[start : start + BATCH])
        with tf.GradientTape() as tape:
            tape.watch(batch)
            probabilities = run_layers(parts.layers, batch)
            wanted = (tf.argmax(probabilities, axis=1) if chosen is None
                      else tf.constant(chosen[start : start + BATCH]))
            picked = tf.gather(probabilities, wanted, axis=1, batch_dims=1)
        return np.asarray(tape.gradient(picked, batch), np.float32)

    if len(inputs) == 0:
        return np.zeros((0, *IMAGE_SHAPE), np.float32)
    return np.concatenate([gradients(start) for start in range(0, len(inputs), BATCH)])


def gradient_times_input(model, images, classes=None) -> np.ndarray:
    """saliency × the pixels (0–1): zero where there is no ink; (N, 28, 28) float32."""
    return saliency(model, images, classes) * scaled(images)


## Convolutions


def feature_maps(model, image) -> list[tuple[str, np.ndarray]]:
    """Each convolution's outputs (after ReLU) for one image: [(layer name, (height, width, filters) float32)]."""
    parts = structure(model)
    if not parts.convolutions:
        raise ValueError("This model has no convolution layers, so there are no feature maps to show; "
                         "they belong to CNNs.")
    values, maps = one_image(image), []
    for index, layer in enumerate(parts.layers[: parts.convolutions[-1] + 1]):
        values = layer(values, training=False)
        if index in parts.convolutions:
            maps.append((layer.name, np.asarray(values, np.float32)[0]))
    return maps


def grad_cam(model, image, class_index=None, at_input_size: bool = True) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) on the last convolution for a class (default: the predicted one):
    ReLU of its feature maps weighted by the mean gradient of the class score (before softmax).

    Returns (28, 28) float32 ≥ 0 placed over the pixels each position sees, or the map at the convolution's
    own size (height, width) when at_input_size is False.
    """
    import tensorflow as tf

    parts = structure(model)
    if not parts.convolutions:
        raise ValueError("Grad-CAM needs a convolution layer; this model has none (it is not a CNN).")
    last = parts.convolutions[-1]
    output = parts.layers[parts.output]
    with tf.GradientTape() as tape:
        maps = run_layers(parts.layers[: last + 1], one_image(image))
        tape.watch(maps)
        scores = run_layers(parts.layers[last + 1 : parts.output], maps) @ output.kernel + output.bias
        wanted = int(np.argmax(scores[0])) if class_index is None else int(class_index)
        score = scores[0, wanted]
    weights = tf.reduce_mean(tape.gradient(score, maps)[0], axis=(0, 1))  # one weight per filter
    coarse = np.maximum(np.asarray(tf.tensordot(maps[0], weights, axes=1), np.float32), 0.0)
    if not at_input_size:
        return coarse
    start, step = _receptive_centres(parts.layers[: last + 1])
    return upsample(coarse, start, step)


def _receptive_centres(layers) -> tuple[float, float]:
    """(pixel of the first position's centre, pixels between positions) after these layers."""
    start, step = 0.0, 1.0
    for layer in layers:
        kind = type(layer).__name__
        if kind in ("Conv2D", "MaxPooling2D"):
            size = layer.kernel_size[0] if kind == "Conv2D" else layer.pool_size[0]
            if layer.padding == "valid":
                start += (size - 1) / 2 * step
            step *= layer.strides[0]
    return start, step


def upsample(coarse: np.ndarray, start: float, step: float) -> np.ndarray:
    """A map (height, width) whose position i is centred on pixel start + i·step, interpolated linearly onto
    the 28×28 pixels (constant beyond the outer centres); (28, 28) float32."""
    coarse = np.asarray(coarse, np.float64)
    pixels = np.arange(IMAGE_SHAPE[0], dtype=np.float64)
    rows = np.stack([np.interp(pixels, start + step * np.arange(coarse.shape[0]), column) for column in coarse.T],
                    axis=1)  # (28, width)
    columns = start + step * np.arange(coarse.shape[1])
    return np.stack([np.interp(pixels, columns, row) for row in rows]).astype(np.float32)


## The hidden-space map: every epoch's activations (projected by mnistlib.hidden_space)


def hidden_activations_per_epoch(model, weights_per_epoch, images) -> np.ndarray:
    """Hidden activations under each epoch's weights (a list of model.get_weights() lists), on a copy of the
    model (the given one is not changed): (epochs, N, units) float32."""
    import keras

    copy = keras.models.clone_model(model)
    per_epoch = []
    for weights in weights_per_epoch:
        copy.set_weights(weights)
        per_epoch.append(hidden_activations(copy, images))
    return np.stack(per_epoch)


## One image explained: everything a page shows, with notes for the student


UNSURE_BELOW = 0.6  # a top probability below this is called unsure


@dataclass(frozen=True)
class Explanation:
    """Why a model gave its answer for one image; arrays float32, None where the model lacks that part."""

    probabilities: np.ndarray  # (classes,) summing to 1
    predicted: int  # np.argmax(probabilities)
    runner_up: int  # the second most probable class
    activations: np.ndarray | None  # (units,) the last hidden layer's outputs
    contributions: np.ndarray | None  # (units, classes) activation × output weight
    saliency: np.ndarray  # (28, 28) gradient of p[predicted] with respect to the pixels (0–1)
    gradient_times_input: np.ndarray  # (28, 28) saliency × pixels
    grad_cam: np.ndarray | None  # (28, 28) ≥ 0, CNNs only
    notes: tuple  # sentences about this image or model, for the student

    def top_units(self, class_index: int, count: int = 6) -> np.ndarray:
        """Up to count units that pushed class_index's score up the most (positive contributions), largest first."""
        if self.contributions is None:
            return np.zeros(0, np.int64)
        pushes = self.contributions[:, class_index]
        order = np.argsort(-pushes, kind="stable")[:count]
        return order[pushes[order] > 0]

    def __repr__(self):
        return f"Explanation(predicted={self.predicted}, p={self.probabilities[self.predicted]:.3f}, notes={len(self.notes)})"


def explain(model, image, class_names) -> Explanation:
    """Probabilities, hidden units, contributions, saliency (and Grad-CAM for a CNN) for one image (28, 28) uint8."""
    parts = structure(model)
    classes = parts.layers[parts.output].units
    if len(class_names) != classes:
        raise ValueError(f"This model has {classes} outputs but {len(class_names)} class names were given.")
    image = np.asarray(image)
    probabilities = np.asarray(run_layers(parts.layers, one_image(image)), np.float32)[0]
    predicted, runner_up = (int(index) for index in np.argsort(-probabilities, kind="stable")[:2])
    notes, activations, pushes = [], None, None
    if not image.any():
        notes.append("The image is blank (every pixel is 0): the network sees no ink, so the first layer "
                     "passes on only its biases (through the later layers' weights), and gradient × input is zero "
                     "everywhere.")
    if probabilities[predicted] < UNSURE_BELOW:
        notes.append(f"The model is unsure: {probabilities[predicted]:.0%} for {class_names[predicted]}, "
                     f"{probabilities[runner_up]:.0%} for {class_names[runner_up]}. Compare what pushed it each way.")
    if parts.hidden is None:
        notes.append("This model has no hidden Dense layer, so there are no hidden units to show; the saliency map "
                     "still shows which pixels mattered.")
    else:
        activations = np.asarray(run_layers(parts.layers[: parts.output], one_image(image)), np.float32)[0]
        pushes = activations[:, None] * np.asarray(parts.layers[parts.output].kernel, np.float32)
        if not templates_are_fixed(model):
            behind = "the convolutions' feature maps" if parts.convolutions else "the hidden layer before it"
            notes.append(f"The last hidden layer reads {behind}, not the pixels, so each unit's 28×28 template is "
                         "worked out for this image: the gradient of the unit's sum with respect to the pixels.")
        if not activations.any():
            notes.append("Every unit of the last hidden layer is 0 for this image, so the output layer's biases "
                         "alone decide the answer.")
    gradient = saliency(model, image[None], [predicted])[0]
    cam = grad_cam(model, image, predicted) if parts.convolutions else None
    return Explanation(probabilities, predicted, runner_up, activations, pushes, gradient,
                       gradient * one_image(image)[0], cam, tuple(notes))
