"""The exported train.py with the overfitting lab's settings: the same subset and wrong labels as the app (its own
numpy, no mnistlib), and, run in a fresh interpreter with model.fit, the app's validation accuracy within 2 points."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from mnistlib import config, datasets, export, lab_code, store
from mnistlib.training import lab_data, loop

PYTHON = sys.executable


def test_the_scripts_numpy_picks_the_apps_images_and_wrong_labels(rng):
    x = rng.integers(0, 256, size=(2000, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=2000).astype(np.uint8)
    (x_train, y_train), _ = loop.split_validation(x, y, 0.2)
    expected = lab_data.training_part(x_train, y_train, 300, 0.25, seed=7, num_classes=10)
    namespace = {"np": np, "x_train": x.copy(), "y_train": y.copy()}
    code = lab_code.split_code(0.2) + lab_code.data_code(300, 0.25, seed=7, num_classes=10)
    assert "mnistlib" not in code
    exec(code, namespace)  # the script's own lines, as it runs them
    np.testing.assert_array_equal(namespace["x_train"], expected[0])
    np.testing.assert_array_equal(namespace["y_train"], expected[1])
    np.testing.assert_array_equal(namespace["relabelled"], expected[2])
    np.testing.assert_array_equal(namespace["y_val"], y[1600:])  # the same held-out images, labels untouched
    assert lab_code.data_code(None, 0.0, seed=7, num_classes=10) == ""


def test_the_lab_in_a_few_words():
    assert lab_code.describe({"train_images": 500, "label_noise": 0.3, "l2": 0.01, "augment": True,
                              "early_stopping": 5}) == "500 images, 30% noise, L2 0.01, augmented, early stop 5"
    assert lab_code.describe({"train_images": None, "label_noise": 0.0}) == "—"


def train_in_the_app(*arguments) -> store.ModelCard:
    """Train on full MNIST through the CLI (the app's worker and training loop); the stored card."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    trained = subprocess.run([PYTHON, "-m", "mnistlib", "train", "--dataset", "mnist", "--subset", "full",
                              *arguments], capture_output=True, text=True, cwd=config.REPO_ROOT, env=environment,
                             timeout=600)
    assert trained.returncode == 0, trained.stderr[-2000:]
    return store.load_card(re.search(r"model id (\S+)", trained.stdout).group(1))


def run_exported(card, folder) -> subprocess.CompletedProcess:
    """Export the model and run its train.py in a fresh interpreter, from another working directory."""
    export.export(card.id, folder)
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([PYTHON, str(folder / "train.py")], cwd=folder.parent, env=environment,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def printed(pattern: str, result: subprocess.CompletedProcess) -> list[str]:
    found = re.findall(pattern, result.stdout, flags=re.MULTILINE)
    assert len(found) == 1, result.stdout[-3000:]
    return found[0]


@pytest.mark.skipif(not datasets.is_fetched("mnist"), reason="needs the full MNIST: python -m mnistlib fetch")
@pytest.mark.parametrize("arguments", [
    ["--train-images", "1000", "--label-noise", "0.2", "--epochs", "5"],
    ["--train-images", "1000", "--label-noise", "0.2", "--l2", "0.001", "--augment", "--epochs", "5"],
    ["--train-images", "1000", "--label-noise", "0.3", "--early-stopping", "2", "--epochs", "30"],
], ids=["subset and noise", "with L2 and augmentation", "with early stopping"])
def test_the_exported_script_reaches_the_apps_validation_accuracy(tmp_path, arguments):
    """On full MNIST's 6,000 validation images (one image is 0.017 points), so the two orders of the images
    move the figure by less than the 2 points allowed."""
    card = train_in_the_app(*arguments, "--name", "export lab test")
    result = run_exported(card, tmp_path / "export")
    script = (tmp_path / "export" / "train.py").read_text()
    assert "mnistlib" not in script and "model.fit(" in script
    assert printed(r"^(\d+) training images, 6000 validation images", result) == str(card.train_images)
    assert int(printed(r"^(\d+) of the \d+ training labels replaced", result)) == card.labels_changed
    lab = lab_code.lab_of(card)
    if lab["l2"]:
        assert "kernel_regularizer=keras.regularizers.L2(0.001)" in script
    if lab["augment"]:
        assert "layers.RandomTranslation(0.1, 0.1" in script
    app_accuracy = card.val_accuracy
    if lab["early_stopping"]:
        stopped, best = printed(r"^early stopping: stopped after epoch (\d+), kept the weights of epoch (\d+)", result)
        assert int(best) <= int(stopped) < 30 and card.lab["stopped_epoch"] < 30  # both stopped before the end
        # The app keeps the best epoch's weights too: its validation accuracy is that epoch's.
        app_accuracy = card.history[card.lab["best_epoch"] - 1]["val_accuracy"]
    accuracy = float(printed(r"^validation accuracy (\d+\.\d+)%", result))
    assert abs(accuracy - 100 * app_accuracy) <= 2.0, (accuracy, app_accuracy)


def test_the_scripts_augmentation_has_the_engines_ranges():
    from mnistlib.training import augment

    assert (lab_code.SHIFT, lab_code.ROTATION_DEGREES, lab_code.ZOOM) == (
        augment.SHIFT, augment.ROTATION_DEGREES, augment.ZOOM)
