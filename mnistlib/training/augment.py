"""The overfitting lab's augmentation: random shifts, rotations and zooms of training images, on tensors.

Each image gets its own random shift (up to ±10% of its height and width), rotation (up to ±10°) and zoom (up to
±10%), the ranges of Keras's `RandomTranslation(0.1, 0.1)`, `RandomRotation(10 / 360)` and `RandomZoom(0.1)`.
The three are composed into one affine map and the image is resampled once, bilinearly, with black (0) where
the map falls outside it (Keras's `fill_mode="constant"`). Keras's layers resample with
`ImageProjectiveTransformV3`, which XLA cannot compile; this is the same maths in gathers, so it runs inside the
engine's compiled training chunk. The draws come from stateless generators keyed by (seed, counter): the same
request draws the same transforms.
"""

import math

import numpy as np
import tensorflow as tf

SHIFT = 0.1  # fraction of the height (vertical) and width (horizontal), each way
ROTATION_DEGREES = 10.0  # each way
ZOOM = 0.1  # fraction each way; above 1 the digit looks smaller (more of the image is sampled)
PREVIEW_STREAM = 2**30  # counters of the preview's draws, far from the training chunks' 0, 1, 2, …


def random_parameters(shape, seed) -> tf.Tensor:
    """Uniform draws (*shape, 4) float32 of (angle in radians, zoom factor, shift down, shift right in pixels
    divided by the image size), from the stateless seed (2,) int32."""
    unit = tf.random.stateless_uniform((*shape, 4), seed=seed, minval=-1.0, maxval=1.0)
    scale = tf.constant([math.radians(ROTATION_DEGREES), ZOOM, SHIFT, SHIFT], tf.float32)
    return unit * scale + tf.constant([0.0, 1.0, 0.0, 0.0], tf.float32)


def warp(images: tf.Tensor, parameters: tf.Tensor) -> tf.Tensor:
    """images (B, H, W) float32 resampled through each one's affine map; parameters (B, 4) from random_parameters.

    Output pixel (y, x), taken from the image centre c, reads the input at R(angle) · zoom · ((y, x) − c) + c −
    shift: bilinear between the four nearest pixels, each outside the image counting as 0."""
    height, width = int(images.shape[1]), int(images.shape[2])
    angle, zoom = parameters[:, 0:1], parameters[:, 1:2]
    shift_y, shift_x = parameters[:, 2:3] * height, parameters[:, 3:4] * width
    rows, columns = tf.meshgrid(tf.range(height, dtype=tf.float32), tf.range(width, dtype=tf.float32), indexing="ij")
    centre_y, centre_x = (height - 1) / 2.0, (width - 1) / 2.0
    y, x = tf.reshape(rows, (1, -1)) - centre_y, tf.reshape(columns, (1, -1)) - centre_x  # (1, H·W)
    cos, sin = tf.cos(angle), tf.sin(angle)
    source_y = zoom * (cos * y + sin * x) + centre_y - shift_y  # (B, H·W)
    source_x = zoom * (cos * x - sin * y) + centre_x - shift_x
    top, left = tf.floor(source_y), tf.floor(source_x)
    weight_y, weight_x = source_y - top, source_x - left
    flat = tf.reshape(images, (-1, height * width))

    def read(row, column):
        """Pixels at integer positions (B, H·W) float32, 0 outside the image."""
        inside = (row >= 0) & (row <= height - 1) & (column >= 0) & (column <= width - 1)
        index = tf.cast(tf.clip_by_value(row, 0, height - 1) * width + tf.clip_by_value(column, 0, width - 1),
                        tf.int32)
        return tf.where(inside, tf.gather(flat, index, batch_dims=1), 0.0)

    resampled = ((1 - weight_y) * ((1 - weight_x) * read(top, left) + weight_x * read(top, left + 1))
                 + weight_y * ((1 - weight_x) * read(top + 1, left) + weight_x * read(top + 1, left + 1)))
    return tf.reshape(resampled, (-1, height, width))


def augment_chunk(images: tf.Tensor, seed) -> tf.Tensor:
    """A chunk of training batches (steps, B, H, W) uint8 as float32 in [0, 1], each image randomly transformed;
    seed (2,) int32 keys the draws."""
    steps, batch, height, width = (tf.shape(images)[index] for index in range(4))
    parameters = random_parameters((steps * batch,), seed)
    scaled = tf.reshape(tf.cast(images, tf.float32) / 255.0, (-1, images.shape[2], images.shape[3]))
    return tf.reshape(warp(scaled, parameters), (steps, batch, height, width))


def augment_preview(images: np.ndarray, seed: int, count: int) -> np.ndarray:
    """count augmented versions (count, 28, 28) uint8 of images (N, 28, 28) uint8, cycling through them (image i
    % N for the i-th), with the transforms training draws; the same seed gives the same samples."""
    images = np.asarray(images)
    if images.ndim != 3 or len(images) == 0 or images.dtype != np.uint8:
        raise ValueError("The preview needs at least one image, as an (N, height, width) uint8 array.")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
        raise ValueError("The preview shows from 1 to 1000 images.")
    chosen = images[np.arange(count) % len(images)].astype(np.float32) / 255.0
    parameters = random_parameters((count,), tf.constant([seed, PREVIEW_STREAM], tf.int32))
    warped = warp(tf.constant(chosen), parameters).numpy()
    return np.clip(np.round(warped * 255.0), 0, 255).astype(np.uint8)
