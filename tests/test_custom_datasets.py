"""User datasets in the registry (stored, verified, listed, removed), with 2 to 20 classes through models,
evaluation, plots and the command line."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mnistlib import datasets, evaluation, models, plots, training_order
from tests.test_importing import digit_zip, make_zip

pytestmark = pytest.mark.usefixtures("data_dir")  # an empty data folder (conftest.py)


def three_class_arrays(rng) -> dict:
    """A tiny valid dataset: 30 training and 9 test images of 3 classes (labels 0, 1, 2)."""
    return {"x_train": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), "y_train": np.arange(30) % 3,
            "x_test": rng.integers(0, 256, (9, 28, 28), dtype=np.uint8), "y_test": np.arange(9) % 3}


def test_add_then_load_round_trips_with_checksums(rng, data_dir):
    # Stored with the training set in the stratified order (see tests/test_training_order.py).
    given = three_class_arrays(rng)
    arrays = training_order.reorder_training(given)
    entry = datasets.add("shapes", given, ["circle", "square", "triangle"], title="Shapes", source="shapes.zip",
                         notes=["3 classes."])
    assert entry.custom and entry.class_names == ("circle", "square", "triangle") and entry.notes == ("3 classes.",)
    assert datasets.available() == ["mnist", "fashion_mnist", "shapes"]
    for subset in ("full", "small"):  # a user dataset is its own small subset
        data = datasets.load("shapes", subset=subset)
        assert data.subset == subset and data.title == "Shapes"
        for part in datasets.PARTS:
            np.testing.assert_array_equal(getattr(data, part), arrays[part])
            assert getattr(data, part).dtype == np.uint8 and not getattr(data, part).flags.writeable
    meta = json.loads((data_dir / "custom" / "shapes" / "dataset.json").read_text())
    assert meta["sha256"] == {part: datasets.checksum(np.asarray(arrays[part], np.uint8)) for part in datasets.PARTS}
    assert meta["source"] == "shapes.zip" and meta["created"].endswith("+00:00")


def test_user_datasets_are_listed_after_the_built_in_ones(rng):
    for name in ("zebra", "apples", "my-digits"):
        datasets.add(name, three_class_arrays(rng), ["a", "b", "c"])
    assert datasets.available() == ["mnist", "fashion_mnist", "apples", "my-digits", "zebra"]


def test_a_tampered_array_is_refused_naming_the_file(rng, data_dir):
    datasets.add("shapes", three_class_arrays(rng), ["a", "b", "c"])
    path = data_dir / "custom" / "shapes" / "y_test.npy"
    np.save(path, np.zeros(9, np.uint8))
    with pytest.raises(datasets.DataCorruptError, match=r"y_test\.npy does not hold .*dataset remove shapes"):
        datasets.load("shapes")
    path.unlink()
    with pytest.raises(datasets.DataCorruptError, match=r"y_test\.npy is missing"):
        datasets.load("shapes")


def test_a_damaged_description_hides_the_dataset_but_it_can_be_removed(rng, data_dir):
    datasets.add("shapes", three_class_arrays(rng), ["a", "b", "c"])
    (data_dir / "custom" / "shapes" / "dataset.json").write_text("{not json")
    assert datasets.available() == ["mnist", "fashion_mnist"] and datasets.custom_names() == ["shapes"]
    with pytest.raises(datasets.DataCorruptError, match=r"dataset\.json cannot be read"):
        datasets.info("shapes")
    datasets.remove("shapes")
    assert not (data_dir / "custom" / "shapes").exists()


def test_remove_deletes_only_user_datasets(rng, data_dir):
    datasets.add("shapes", three_class_arrays(rng), ["a", "b", "c"])
    datasets.remove("shapes")
    assert datasets.available() == ["mnist", "fashion_mnist"] and list((data_dir / "custom").iterdir()) == []
    with pytest.raises(ValueError, match="no dataset of your own named 'shapes'"):
        datasets.remove("shapes")
    for name in ("mnist", "Fashion_MNIST"):
        with pytest.raises(ValueError, match="is built in and cannot be removed"):
            datasets.remove(name)
    with pytest.raises(ValueError, match="Unknown dataset 'shapes'"):
        datasets.load("shapes")


@pytest.mark.parametrize("name, message", [
    ("mnist", "taken by the built-in dataset mnist"),
    ("MNIST", "taken by the built-in dataset mnist"),
    ("Fashion-MNIST", "taken by the built-in dataset fashion_mnist"),
    ("shapes", "A dataset named 'shapes' already exists"),
    ("SHAPES", "A dataset named 'shapes' already exists"),
    ("my_shapes", "A dataset named 'my-shapes' already exists"),
    ("a/b", "holds “/”"),
    ("..", "holds “/”, “\\\\” or “..”"),
    ("../../etc", "holds “/”"),
    ("a\\b", "holds “/”"),
    ("tab\there", "control character"),
    ("nul\x00", "control character"),
    ("", "Give the dataset a name"),
    ("My Digits", "1 to 40 lower-case letters"),
    ("x" * 41, "1 to 40 lower-case letters"),
])
def test_bad_or_taken_names_are_refused_and_nothing_is_stored(name, message, rng, data_dir):
    datasets.add("shapes", three_class_arrays(rng), ["a", "b", "c"])
    datasets.add("my-shapes", three_class_arrays(rng), ["a", "b", "c"])
    with pytest.raises(ValueError, match=message):
        datasets.add(name, three_class_arrays(rng), ["a", "b", "c"])
    assert sorted(os.listdir(data_dir / "custom")) == ["my-shapes", "shapes"]


@pytest.mark.parametrize("change, message", [
    ({"class_names": ["a"]}, "at least 2 classes"),
    ({"class_names": [str(n) for n in range(21)]}, "at most 20 classes"),
    ({"class_names": ["a", "b", "A"]}, "Two classes are both named 'A'"),
    ({"x_train": "float"}, "x_train must hold uint8 images"),
    ({"y_test": "float"}, "y_test must be whole-number labels"),
    ({"y_train": "out of range"}, "y_train holds the label 3, but with 3 classes the labels are 0 to 2"),
    ({"y_train": "small class"}, "Class 'c' has only 4 images"),
    ({"y_test": "no test"}, "Class 'c' has no test images"),
])
def test_bad_arrays_are_refused_and_nothing_is_stored(change, message, rng, data_dir):
    arrays, class_names = three_class_arrays(rng), ["a", "b", "c"]
    (key, how), = change.items()
    if key == "class_names":
        class_names = how
    elif how == "float":
        arrays[key] = arrays[key].astype(np.float32)
    elif how == "out of range":
        arrays["y_train"] = np.where(np.arange(30) == 5, 3, arrays["y_train"])
    elif how == "small class":
        arrays["y_train"] = np.where(arrays["y_train"] == 2, 0, arrays["y_train"])
        arrays["y_train"][:1] = 2
    elif how == "no test":
        arrays["y_test"] = arrays["y_test"] % 2
    with pytest.raises(ValueError, match=message):
        datasets.add("shapes", arrays, class_names)
    assert not (data_dir / "custom").exists() or list((data_dir / "custom").iterdir()) == []


## Any number of classes from 2 to 20


@pytest.mark.parametrize("classes", [2, 3, 20])
def test_the_model_has_one_output_per_class_and_the_summary_agrees(classes):
    spec = models.ModelSpec(architecture="cnn", hidden_units=16)
    model = models.build(spec, num_classes=classes)
    assert model.output_shape == (None, classes)
    rows = models.summary(spec, num_classes=classes)
    assert rows[-1].output_shape == (classes,) and rows[-1].parameters == (16 + 1) * classes
    assert models.count_parameters(spec, classes) == model.count_params()


def test_class_counts_outside_2_to_20_are_refused_by_models():
    for classes in (1, 21, 3.0):
        with pytest.raises(ValueError, match="from 2 to 20 classes"):
            models.summary(models.ModelSpec(), num_classes=classes)


def test_evaluation_takes_the_class_count_from_the_data(rng):
    labels = rng.integers(0, 3, 40)
    predicted = np.where(rng.random(40) < 0.6, labels, rng.integers(0, 3, 40))
    reference = np.zeros((3, 3), int)
    for true, guess in zip(labels, predicted, strict=True):
        reference[true, guess] += 1
    np.testing.assert_array_equal(evaluation.confusion_matrix(labels, predicted), reference)
    assert evaluation.class_counts(labels).tolist() == np.bincount(labels).tolist()
    assert evaluation.class_counts(np.array([0, 1]), num_classes=4).tolist() == [1, 1, 0, 0]
    assert evaluation.class_means(np.zeros((4, 28, 28), np.uint8), np.array([0, 1, 0, 1]), num_classes=5).shape[0] == 5
    per_epoch = np.stack([np.eye(4)[[1, 1]], np.eye(4)[[0, 1]]])  # 4 classes, though only 0 and 1 appear
    assert evaluation.per_epoch_confusion(np.array([0, 1]), per_epoch).shape == (2, 4, 4)
    metrics = evaluation.per_class_metrics(labels, predicted, num_classes=3)
    np.testing.assert_allclose(metrics["recall"], np.diag(reference) / reference.sum(axis=1))
    evaluation.check_probabilities(np.eye(3)[[0, 2]], num_classes=3)


def test_figures_are_sized_by_the_class_count():
    names = [f"class {n}" for n in range(3)]
    bar = plots.probability_bar(np.array([0.2, 0.7, 0.1]), names, true_label=0)
    assert list(bar.data[0].x) == names and list(bar.data[0].marker.color) == [plots.RIGHT, plots.WRONG, plots.OTHER]
    figure = plots.prediction_figure(np.zeros((28, 28), np.uint8), np.array([0.2, 0.7, 0.1]), 0, names)
    assert len(figure.axes[1].patches) == 3
    many = [f"c{n}" for n in range(20)]
    heatmap = plots.confusion_heatmap(np.ones((20, 20), int), many)
    assert len(heatmap.layout.shapes) == 20 and heatmap.layout.height > 520
    assert heatmap.data[1].marker.size < 30
    means = plots.class_means_grid(np.zeros((20, 28, 28)), many)
    assert len(means.axes) == 20 and sum(axes.get_title() != "" for axes in means.axes) == 20


## The command line


def run_cli(*arguments, data_dir):
    env = {**os.environ, "MNISTLIB_DATA_DIR": str(data_dir), "MNISTLIB_SUBSET": "small"}
    return subprocess.run([sys.executable, "-m", "mnistlib", *arguments], capture_output=True, text=True, env=env,
                          timeout=300)


def test_the_command_line_adds_lists_and_removes_a_photographed_digits_zip(tmp_path, data_dir):
    path = tmp_path / "digits.zip"
    path.write_bytes(make_zip(digit_zip(extra={"digits/README.txt": b"three digits"})))
    added = run_cli("dataset", "add", str(path), "--name", "photo-digits", "--title", "Photographed digits",
                    "--test-fraction", "0.25", data_dir=data_dir)
    assert added.returncode == 0, added.stderr
    assert "Added Photographed digits (photo-digits): classes one, two, zero" in added.stdout
    assert "45 training and 15 test images" in added.stdout and "Skipped 1 file" in added.stdout
    data = datasets.load("photo-digits")
    assert data.x_train.shape == (45, 28, 28) and data.x_test.shape == (15, 28, 28)
    assert all(datasets.checksum(getattr(data, part)) == datasets.info("photo-digits").sha256[part]
               for part in datasets.PARTS)
    listed = run_cli("dataset", "list", data_dir=data_dir)
    assert "photo-digits     Photographed digits — 3 classes (yours, from digits.zip)" in listed.stdout
    info = run_cli("info", "--dataset", "photo-digits", data_dir=data_dir)
    assert info.returncode == 0 and "training images: (45, 28, 28)" in info.stdout
    again = run_cli("dataset", "add", str(path), "--name", "Photo_Digits", data_dir=data_dir)
    assert again.returncode == 1 and again.stderr.strip().splitlines() == [
        "error: A dataset named 'photo-digits' already exists; choose another name or remove it first with: "
        "python -m mnistlib dataset remove photo-digits"]
    removed = run_cli("dataset", "remove", "photo-digits", data_dir=data_dir)
    assert removed.returncode == 0 and "photo-digits" not in run_cli("dataset", "list", data_dir=data_dir).stdout
    assert datasets.available() == ["mnist", "fashion_mnist"]


@pytest.mark.parametrize("arguments, message", [
    (("dataset", "remove", "mnist"), "error: mnist is built in and cannot be removed"),
    (("dataset", "add", "missing.zip", "--name", "x"), "error: There is no file 'missing.zip'."),
    (("dataset", "add", "missing.zip", "--name", "../x"), "error: The name '../x' holds"),
])
def test_command_line_errors_are_one_line(arguments, message, data_dir):
    result = run_cli(*arguments, data_dir=data_dir)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith(message)
