"""The command line: info prints the seed's answers; bad arguments exit non-zero with one line."""

import os
import subprocess
import sys

import pytest

from mnistlib import cli, config


def run_cli(*arguments, env=None):
    return subprocess.run([sys.executable, "-m", "mnistlib", *arguments], capture_output=True, text=True,
                          env=env, timeout=120)


def test_info_prints_the_shapes_of_the_small_subset(capsys):
    assert cli.main(["info", "--subset", "small"]) == 0
    out = capsys.readouterr().out
    assert "MNIST digits (mnist, small)" in out and "Fashion-MNIST (fashion_mnist, small)" in out
    assert "training images: (1000, 28, 28)" in out and "test images:     (200, 28, 28)" in out
    assert "Ankle boot" in out


def test_info_full_answers_the_seed_questions():
    from mnistlib import datasets

    if not datasets.is_fetched("mnist"):
        pytest.skip("full data not fetched")
    result = run_cli("info", "--dataset", "mnist")
    assert result.returncode == 0
    assert "training images: (60000, 28, 28)" in result.stdout
    assert "training labels: 60000" in result.stdout
    assert "test images:     (10000, 28, 28)" in result.stdout


def test_unknown_dataset_is_one_line_and_non_zero():
    result = run_cli("info", "--dataset", "cifar10")
    assert result.returncode != 0
    assert "invalid choice: 'cifar10'" in result.stderr


def test_missing_data_is_one_line_and_non_zero(tmp_path):
    import os

    env = {**os.environ, "MNISTLIB_DATA_DIR": str(tmp_path)}
    result = run_cli("info", "--dataset", "mnist", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: MNIST digits has not been fetched yet")


def test_train_prints_validation_before_test_and_a_clean_piped_log(tmp_path):
    """Piped (as to a file or a CI log), the progress is not redrawn line after line; the result names the last
    epoch's training and validation accuracy (to choose by) before the test accuracy."""
    environment = {**os.environ, "MNISTLIB_MODELS_DIR": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "mnistlib", "train", "--subset", "small", "--epochs", "2",
                             "--seed", "7"], cwd=config.REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    figures = next(index for index, line in enumerate(lines) if line.startswith("last epoch: training accuracy"))
    assert "validation accuracy" in lines[figures] and lines[figures + 1].startswith("test accuracy")
    assert "\r" not in result.stderr and result.stderr.count("queued") <= 1
    assert "epoch 2/2" in result.stderr


@pytest.mark.parametrize("flags, words", [
    (["--train-images", "50"], "error: Training images must be at least 10 per class: 100 for 10 classes (got 50)."),
    (["--label-noise", "0.9"], "error: Label noise must be a fraction from 0 to 0.8 (got 0.9)."),
    (["--label-noise", "-0.1"], "error: Label noise must be a fraction from 0 to 0.8 (got -0.1)."),
])
def test_train_refuses_bad_lab_settings_with_one_line_before_training(flags, words, models_dir, capsys):
    assert cli.main(["train", "--subset", "small", "--epochs", "1", *flags]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [words] and "Training" not in captured.out
    assert list(models_dir.iterdir()) == []  # nothing trained, nothing stored


def test_train_refuses_a_lab_setting_that_is_not_a_number():
    result = run_cli("train", "--subset", "small", "--train-images", "many")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: argument --train-images: invalid int value: 'many' (see python -m mnistlib train --help)"]


def test_train_with_lab_settings_stores_them_on_the_card(models_dir):
    import json
    import os

    env = {**os.environ, "MNISTLIB_MODELS_DIR": str(models_dir), "MNISTLIB_MAX_TRAININGS": "1"}
    result = run_cli("train", "--subset", "small", "--epochs", "1", "--train-images", "300", "--label-noise", "0.2",
                     env=env)
    assert result.returncode == 0, result.stderr
    assert "300 training images at most, 20% of the training labels replaced by a wrong class" in result.stdout
    cards = [json.loads(path.read_text()) for path in models_dir.glob("*/card.json")]
    assert len(cards) == 1
    assert (cards[0]["train_images"], cards[0]["label_noise"], cards[0]["labels_changed"]) == (300, 0.2, 60)
