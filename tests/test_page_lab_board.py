"""The class board's Overfitting lab column: each model's lab settings from its card, read through the index."""

import pytest

from mnistlib import board, store
from tests.test_page_board import ADA, BOB, read_files, run_board, save_copy, select, table


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


@pytest.fixture(scope="module")
def files(stored_mnist_model):
    """A real model's files, read from the session's store before a test switches to its own."""
    return read_files(stored_mnist_model)


def test_the_board_says_each_models_lab_settings(files, models_dir):
    save_copy(files, [ADA], "plain")
    save_copy(files, [BOB], "few and noisy", train_images=500, label_noise=0.3, labels_changed=150)
    save_copy(files, [BOB], "everything", train_images=500, label_noise=0.3, labels_changed=150,
              lab={"l2": 0.01, "augment": True, "early_stopping": 5, "stopped_epoch": 9, "best_epoch": 4})
    save_copy(files, [BOB], "only l2", lab={"l2": 0.001})
    shown = table(run_board(ADA))
    by_name = dict(zip(shown["Model"], shown[board.LAB_COLUMN], strict=True))
    assert by_name == {"plain": "—", "few and noisy": "500 images, 30% noise",
                       "everything": "500 images, 30% noise, L2 0.01, augmented, early stop 5",
                       "only l2": "L2 0.001"}
    assert set(store.lab_settings("fashion_mnist")) == set()  # one dataset's models only


def test_the_selected_models_panel_says_its_lab_settings_and_where_early_stopping_stopped(files, models_dir):
    card = save_copy(files, [ADA], "stopped", train_images=500, label_noise=0.3, labels_changed=150,
                     lab={"early_stopping": 3, "stopped_epoch": 9, "best_epoch": 6})
    app = select(run_board(ADA), card.id, [card.id])
    assert "Overfitting lab: 500 images, 30% noise, early stop 3; stopped after epoch 9, kept the weights of epoch " \
           "6." in [caption.value.replace("\\", "") for caption in app.caption]
