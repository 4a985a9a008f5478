"""Imported datasets are stored in a shuffled, stratified training order: the last validation_split fraction, which
Keras's validation_split, the app's training loop and the exported train.py hold back, holds every class."""

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from mnistlib import dataset_reorder, datasets, importing, training_order, user_datasets
from mnistlib.training import steps

pytestmark = pytest.mark.usefixtures("data_dir")  # an empty data folder (conftest.py)

CLASSES = ("cat", "dog", "owl")
PER_CLASS = 40  # training images per class
VALIDATION_SPLIT = 0.1


def blob(label: int, number: int) -> np.ndarray:
    """A 28×28 white-on-black picture that differs by class and image: a filled box of varying size."""
    picture = np.zeros((28, 28), np.uint8)
    side = 6 + label * 4 + number % 5
    picture[4:4 + side, 3 + number % 7:3 + number % 7 + side] = 255
    return picture


def png(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def class_sorted_zip() -> bytes:
    """A train/ and test/ zip, 40 training and 5 test images per class, written class by class."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for label, name in enumerate(CLASSES):
            for number in range(PER_CLASS):
                archive.writestr(f"train/{name}/{number:03d}.png", png(blob(label, number)))
            for number in range(5):
                archive.writestr(f"test/{name}/{number:03d}.png", png(blob(label, PER_CLASS + number)))
    return buffer.getvalue()


def class_sorted_npz() -> bytes:
    labels = np.repeat(np.arange(3, dtype=np.uint8), PER_CLASS)
    pictures = np.stack([blob(int(label), number) for number, label in enumerate(labels)])
    buffer = io.BytesIO()
    np.savez(buffer, x_train=pictures, y_train=labels, x_test=pictures[::8], y_test=labels[::8],
             class_names=np.array(CLASSES))
    return buffer.getvalue()


def held_back(labels: np.ndarray) -> np.ndarray:
    """Images per class in the part the validation split holds back: the last fraction (steps.split_sizes)."""
    learned_from, _ = steps.split_sizes(len(labels), VALIDATION_SPLIT)
    return np.bincount(labels[learned_from:], minlength=len(CLASSES))


def assert_every_class_in_its_share(labels: np.ndarray) -> None:
    share = len(labels) * VALIDATION_SPLIT / len(CLASSES)  # 4 of each class out of 12
    assert np.all(np.abs(held_back(labels) - share) <= 1), held_back(labels)


@pytest.mark.parametrize("filename, content", [("sorted.zip", class_sorted_zip), ("sorted.npz", class_sorted_npz)])
def test_a_class_sorted_file_is_stored_with_every_class_in_the_validation_part(filename, content):
    raw = importing.read_file(content(), filename)
    assert held_back(raw.arrays["y_train"]).tolist() == [0, 0, 12]  # as the file came: the last class only
    importing.add_imported("animals", raw)
    stored = datasets.load("animals")
    assert_every_class_in_its_share(stored.y_train)
    # The same images and labels, only reordered; pictures still belong to their labels; the test set as it was.
    order = training_order.stratified_order(raw.arrays["y_train"])
    np.testing.assert_array_equal(stored.x_train, raw.arrays["x_train"][order])
    np.testing.assert_array_equal(stored.y_train, raw.arrays["y_train"][order])
    np.testing.assert_array_equal(stored.y_test, raw.arrays["y_test"])
    assert not dataset_reorder.needs_reorder("animals")


def test_the_order_is_seeded_a_permutation_and_stratified_for_any_fraction():
    labels = np.repeat(np.arange(4), [50, 30, 20, 7])
    order = training_order.stratified_order(labels)
    assert sorted(order.tolist()) == list(range(len(labels)))
    np.testing.assert_array_equal(order, training_order.stratified_order(labels))
    assert not np.array_equal(order, training_order.stratified_order(labels, seed=1))
    for fraction in (0.1, 0.2, 0.5):
        tail = labels[order][-round(len(labels) * fraction):]
        expected = np.bincount(labels) * fraction
        assert np.all(np.abs(np.bincount(tail, minlength=4) - expected) <= 1.5), (fraction, np.bincount(tail))


def test_a_dataset_stored_in_the_old_order_is_reordered_once_and_says_so(data_dir):
    raw = importing.read_file(class_sorted_npz(), "sorted.npz")
    importing.add_imported("animals", raw)
    # As a dataset stored before this change: its training set class-sorted, its description without the order.
    folder = user_datasets.custom_dir() / "animals"
    for part in ("x_train", "y_train"):
        datasets.save_array(folder / f"{part}.npy", raw.arrays[part])
    meta = json.loads((folder / user_datasets.META_FILE).read_text())
    del meta["train_order"]
    meta["sha256"].update({part: datasets.checksum(raw.arrays[part]) for part in ("x_train", "y_train")})
    (folder / user_datasets.META_FILE).write_text(json.dumps(meta))
    created, test_sha = datasets.info("animals").created, datasets.info("animals").sha256["x_test"]
    assert dataset_reorder.needs_reorder("animals") and held_back(datasets.load("animals").y_train)[2] == 12

    done = dataset_reorder.reorder_all()
    assert list(done) == ["animals"] and "sorted by class" in done["animals"]
    entry = datasets.info("animals")
    assert_every_class_in_its_share(datasets.load("animals").y_train)  # verified against the new checksums
    assert entry.created == created and entry.sha256["x_test"] == test_sha  # earlier models stay valid
    assert done["animals"] in entry.notes
    assert dataset_reorder.reorder_all() == {}  # once only
    assert [path.name for path in user_datasets.custom_dir().iterdir() if path.name.startswith(".reorder")] \
        == [".reorder.lock"]
