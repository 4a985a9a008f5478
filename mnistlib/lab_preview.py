"""A few of the overfitting lab's training images as the network will see them: relabelled ones (the image, its
true label, the wrong label it was given) and augmented ones (training/augment.py's transforms).

    examples = lab_preview.relabelled(data, validation_split, train_images, label_noise, seed, count=8)
    originals, augmented = lab_preview.augmented(data, validation_split, train_images, seed, count=8)
"""

from typing import NamedTuple

import numpy as np

from mnistlib.training import lab_data, steps


class Relabelled(NamedTuple):
    """Relabelled training images: images (K, 28, 28) uint8, true and given labels (K,) int, their positions (K,)
    in the training part the network learns from."""

    images: np.ndarray
    true_labels: np.ndarray
    given_labels: np.ndarray
    positions: np.ndarray


def _training_part(data, validation_split: float, train_images, label_noise: float, seed: int):
    """The training part as the worker makes it (training/worker.py): the last validation_split held back first."""
    learned_from, _ = steps.split_sizes(len(data.y_train), validation_split)  # the training loop's split
    return lab_data.training_part(data.x_train[:learned_from], data.y_train[:learned_from], train_images,
                                  label_noise, seed, len(data.class_names))


def relabelled(data, validation_split: float, train_images, label_noise: float, seed: int,
               count: int = 8) -> Relabelled:
    """The first count training images whose labels label_noise replaced (none without noise)."""
    clean = _training_part(data, validation_split, train_images, 0.0, seed)
    images, given, changed = _training_part(data, validation_split, train_images, label_noise, seed)
    shown = changed[:count]
    return Relabelled(images[shown], clean[1][shown].astype(int), given[shown].astype(int), shown)


def augmented(data, validation_split: float, train_images, seed: int, count: int = 8):
    """(the first count training images (count, 28, 28) uint8, an augmented version of each, as training draws
    them)."""
    from mnistlib.training import augment  # TensorFlow: only when a preview is drawn

    images = _training_part(data, validation_split, train_images, 0.0, seed)[0][:count]
    return images, augment.augment_preview(images, seed, len(images))
