"""The small stratified subset (1,000 train / 200 test per dataset) committed for fast tests and demos."""

import numpy as np

from mnistlib import datasets

TRAIN_PER_CLASS = 100
TEST_PER_CLASS = 20


def stratified_indices(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Sorted indices picking per_class random examples of each label; labels (N,) uint8 0–9."""
    generator = np.random.default_rng(seed)
    chosen = [
        generator.choice(np.flatnonzero(labels == label), size=per_class, replace=False)
        for label in range(10)
    ]
    return np.sort(np.concatenate(chosen))


def make_small(name: str, seed: int = 0) -> dict:
    """The subset's four arrays, drawn from the verified full dataset in its original order."""
    full = datasets.load(name, subset="full")
    train = stratified_indices(full.y_train, TRAIN_PER_CLASS, seed)
    test = stratified_indices(full.y_test, TEST_PER_CLASS, seed + 1)
    return {"x_train": full.x_train[train], "y_train": full.y_train[train],
            "x_test": full.x_test[test], "y_test": full.y_test[test]}


def write_small(name: str) -> dict:
    """Write mnistlib/small/NAME.npz and return its checksums (to commit in the registry)."""
    arrays = make_small(name)
    datasets.SMALL_DIR.mkdir(exist_ok=True)
    np.savez_compressed(datasets.SMALL_DIR / f"{name}.npz", **arrays)
    return {part: datasets.checksum(array) for part, array in arrays.items()}
