"""The overfitting lab's data settings: learn from fewer images, or from partly wrong labels.

Both act on the training part only, after the validation part is held back exactly as without them, so the
validation images are the same whatever the settings and runs compare:

    (x_train, y_train), _ = loop.split_validation(x, y, spec.validation_split)      # validation first, as always
    x_train, y_train, changed = lab_data.training_part(x_train, y_train, 500, 0.3, seed=0, num_classes=10)

numpy only; every choice is drawn from a generator seeded by the model's seed, so the same request picks the
same images and the same wrong labels.
"""

import math

import numpy as np

MIN_PER_CLASS = 10  # train_images may go down to 10 images per class
MAX_LABEL_NOISE = 0.8  # past this most labels are wrong and nothing is left to learn
MAX_L2 = 0.1  # past this the penalty outweighs the data and the network learns little
# Separate streams for the two choices, so changing one setting does not change what the other picks.
SUBSET_STREAM, NOISE_STREAM = 1, 2


def check_train_images(train_images, num_classes: int) -> None:
    """Raise ValueError unless train_images is None (all) or a whole number of at least 10 per class."""
    if train_images is None:
        return
    if not isinstance(train_images, (int, np.integer)) or isinstance(train_images, bool):
        raise ValueError("Training images must be a whole number (or unset for all of them).")
    if train_images < MIN_PER_CLASS * num_classes:
        raise ValueError(f"Training images must be at least {MIN_PER_CLASS} per class: "
                         f"{MIN_PER_CLASS * num_classes} for {num_classes} classes (got {train_images}).")


def check_label_noise(label_noise) -> None:
    """Raise ValueError unless label_noise is a number from 0 to MAX_LABEL_NOISE."""
    if isinstance(label_noise, bool) or not isinstance(label_noise, (int, float, np.floating)) \
            or not math.isfinite(label_noise) or not 0 <= label_noise <= MAX_LABEL_NOISE:
        raise ValueError(f"Label noise must be a fraction from 0 to {MAX_LABEL_NOISE} (got {label_noise}).")


def check_l2(l2) -> None:
    """Raise ValueError unless l2 (the L2 weight-decay factor) is a finite number from 0 to MAX_L2."""
    if isinstance(l2, bool) or not isinstance(l2, (int, float, np.floating)) or not math.isfinite(l2) \
            or not 0 <= l2 <= MAX_L2:
        raise ValueError(f"L2 weight decay must be a number from 0 to {MAX_L2} (got {l2}).")


def check_augment(augment) -> None:
    """Raise ValueError unless augment is True or False."""
    if not isinstance(augment, (bool, np.bool_)):
        raise ValueError(f"Augment must be true or false (got {augment!r}).")


def check_early_stopping(patience) -> None:
    """Raise ValueError unless patience is None (no early stopping) or a whole number of epochs, at least 1."""
    if patience is None:
        return
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
        raise ValueError(f"Early stopping's patience must be a whole number of epochs, at least 1 (got {patience}).")


def stratified_indices(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Indices (count,) int64, ascending, of a seeded subset of labels (N,) that keeps each class's share.

    Each class gets floor(count * its share), the remaining few go to the classes with the largest remainders
    (the lower class first on a tie); within a class the images are drawn at random. count >= N gives all.
    """
    labels = np.asarray(labels)
    if count >= len(labels):
        return np.arange(len(labels))
    classes, sizes = np.unique(labels, return_counts=True)
    exact = count * sizes / len(labels)
    quotas = np.floor(exact).astype(np.int64)
    by_remainder = np.argsort(-(exact - quotas), kind="stable")
    quotas[by_remainder[: count - int(quotas.sum())]] += 1
    generator = np.random.default_rng([seed, SUBSET_STREAM])
    chosen = [generator.permutation(np.flatnonzero(labels == label))[:quota]
              for label, quota in zip(classes, quotas, strict=True)]
    return np.sort(np.concatenate(chosen))


def noisy_labels(labels: np.ndarray, fraction: float, num_classes: int, seed: int):
    """(new labels (N,) same dtype, changed indices (K,) int64 ascending): exactly K = round(fraction * N) labels,
    chosen at random, each replaced by a random other class (never its own). labels is not changed."""
    labels = np.asarray(labels)
    count = int(round(fraction * len(labels)))
    generator = np.random.default_rng([seed, NOISE_STREAM])
    changed = np.sort(generator.choice(len(labels), size=count, replace=False))
    noisy = labels.copy()
    # Adding 1 .. C-1 modulo C lands on every other class with equal chance and never on the label itself.
    shift = generator.integers(1, num_classes, size=count)
    noisy[changed] = ((labels[changed].astype(np.int64) + shift) % num_classes).astype(labels.dtype)
    return noisy, changed


def training_part(x_train: np.ndarray, y_train: np.ndarray, train_images, label_noise: float, seed: int,
                  num_classes: int):
    """(images (n, 28, 28) uint8, labels (n,) uint8, relabelled indices into them (K,) int64) from the training
    part (after the validation split): a stratified subset of train_images (None: all), then label_noise of its
    labels replaced. With both at their defaults the arrays come back as they are."""
    check_train_images(train_images, num_classes)
    check_label_noise(label_noise)
    if train_images is not None and train_images < len(y_train):
        chosen = stratified_indices(y_train, train_images, seed)
        x_train, y_train = x_train[chosen], y_train[chosen]
    if label_noise == 0:
        return x_train, y_train, np.zeros(0, np.int64)
    y_train, changed = noisy_labels(y_train, label_noise, num_classes, seed)
    return x_train, y_train, changed
