"""Where the parts of a Sequential classifier are, and running its layers one by one (for mnistlib.insight).

Works on the Keras Sequential models of mnistlib.models.build (…Dense(units, relu) → Dense(classes, softmax)).
Images are (N, 28, 28) 0–255 and are scaled to 0–1 as in training. Keras is imported inside the functions.
"""

from dataclasses import dataclass

import numpy as np

BATCH = 500  # images per forward pass, so 10,000 CNN images never sit in memory at once
IMAGE_SHAPE = (28, 28)


@dataclass(frozen=True)
class Structure:
    """Where the parts of a Sequential classifier are: indices into model.layers (hidden/conv None if absent)."""

    layers: tuple
    output: int  # the final softmax Dense layer
    hidden: int | None  # the last hidden Dense layer (its outputs are the output layer's inputs)
    first_hidden: int | None  # the first hidden Dense layer
    convolutions: tuple  # every Conv2D layer, in order

    def __repr__(self):
        names = [type(layer).__name__ for layer in self.layers]
        return f"Structure({' → '.join(names)})"


def structure(model) -> Structure:
    """The layout of a Sequential classifier ending in a softmax Dense layer; ValueError for anything else."""
    import keras

    if not isinstance(model, keras.Sequential):
        raise ValueError("Only Sequential Keras models (like the ones MNIST Lab trains) can be looked inside.")
    layers = tuple(layer for layer in model.layers if type(layer).__name__ != "InputLayer")
    kinds = [type(layer).__name__ for layer in layers]
    if not layers or kinds[-1] != "Dense" or getattr(layers[-1].activation, "__name__", "") != "softmax":
        raise ValueError("This model's last layer is not a softmax Dense layer, so its answer cannot be explained "
                         "unit by unit here.")
    dense = [index for index, kind in enumerate(kinds[:-1]) if kind == "Dense"]
    convolutions = tuple(index for index, kind in enumerate(kinds) if kind == "Conv2D")
    return Structure(layers, len(layers) - 1, dense[-1] if dense else None, dense[0] if dense else None, convolutions)


def require_hidden(parts: Structure) -> int:
    """The index of the last hidden Dense layer; ValueError with a sentence when the model has none."""
    if parts.hidden is None:
        raise ValueError("This model has no hidden Dense layer: its pixels go straight to the output layer, "
                         "so there are no hidden units to show.")
    return parts.hidden


def scaled(images) -> np.ndarray:
    """images (N, 28, 28) 0–255 as float32 0–1; ValueError with a sentence for anything else."""
    array = np.asarray(images)
    if array.ndim != 3 or array.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"Expected images of shape (N, 28, 28), got {array.shape}.")
    if not np.issubdtype(array.dtype, np.number) or (array.size and not (
            np.isfinite(array).all() and array.min() >= 0 and array.max() <= 255)):
        raise ValueError("Pixel values must be numbers from 0 to 255, like MNIST's uint8 images.")
    return array.astype(np.float32) / np.float32(255.0)


def one_image(image) -> np.ndarray:
    """A single image (28, 28) 0–255 as a batch (1, 28, 28) float32 0–1."""
    array = np.asarray(image)
    if array.shape != IMAGE_SHAPE:
        raise ValueError(f"Expected one image of shape (28, 28), got {array.shape}.")
    return scaled(array[None])


def run_layers(layers, values):
    """values passed through layers in inference mode (Dropout does nothing)."""
    for layer in layers:
        values = layer(values, training=False)
    return values


def batched(function, inputs: np.ndarray, width: int) -> np.ndarray:
    """function applied to inputs in BATCH-sized pieces, concatenated; (N, width) float32."""
    if len(inputs) == 0:
        return np.zeros((0, width), np.float32)
    return np.concatenate([np.asarray(function(inputs[start : start + BATCH]), np.float32)
                           for start in range(0, len(inputs), BATCH)])


def pre_activation(parts: Structure, inputs):
    """The last hidden Dense layer's weighted sums before ReLU, (N, units), for inputs (N, 28, 28) 0–1."""
    layer = parts.layers[parts.hidden]
    return run_layers(parts.layers[: parts.hidden], inputs) @ layer.kernel + layer.bias
