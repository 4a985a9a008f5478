"""The step arithmetic of one training: the images the validation split leaves, and the optimizer steps per epoch
(this app's loop: full batches only; Keras's own fit: the last, smaller batch too). Same split as
loop.split_validation."""

import math


def split_sizes(training_images: int, validation_split: float) -> tuple[int, int]:
    """(images the weights learn from, images held back for validation): the last fraction is held back."""
    learned_from = math.floor(training_images * (1 - validation_split))  # as Keras and the training loop
    return learned_from, training_images - learned_from


def steps_per_epoch(training_images: int, validation_split: float, batch_size: int) -> int:
    """Optimizer steps per epoch of this app's training: full batches only, the last partial batch is left out."""
    return split_sizes(training_images, validation_split)[0] // batch_size


def keras_fit_steps(training_images: int, validation_split: float, batch_size: int) -> int:
    """Steps per epoch of Keras's own model.fit(validation_split=…): it keeps the last, smaller batch."""
    return math.ceil(math.floor(training_images * (1 - validation_split)) / batch_size)
