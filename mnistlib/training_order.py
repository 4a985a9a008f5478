"""The order a dataset's training images are stored in: seeded, shuffled and stratified, so that the last fraction
(what Keras's validation_split, the app's training loop and the exported train.py hold back) has every class in
about its share, whatever order the file came in (a zip's class folders and most .npz files are sorted by class)."""

import numpy as np

SEED = 0  # the same file always gives the same stored order
ORDER_NAME = "stratified-shuffle-1"  # recorded in a user dataset's description once its training order is this


def stratified_order(labels: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Indices (N,) int64 that put labels (N,) in a shuffled order where any last fraction holds about that
    fraction of every class (off by at most one image per class).

    Each class's images are shuffled, then spread evenly over the whole order: the i-th of a class's n images
    sits at (i + u) / n of the way, u random in [0, 1), so classes mix at random but never bunch up.
    """
    labels = np.asarray(labels)
    generator = np.random.default_rng(seed)
    place = np.empty(len(labels), np.float64)
    for label in np.unique(labels):
        members = generator.permutation(np.flatnonzero(labels == label))
        place[members] = (np.arange(len(members)) + generator.random(len(members))) / len(members)
    return np.argsort(place, kind="stable")


def reorder_training(arrays: dict, seed: int = SEED) -> dict:
    """The four arrays with x_train and y_train put in stratified_order (the test set as it was)."""
    order = stratified_order(arrays["y_train"], seed)
    return {**arrays, "x_train": arrays["x_train"][order], "y_train": arrays["y_train"][order]}
