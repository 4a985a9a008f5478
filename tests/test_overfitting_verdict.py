"""The gap verdict (mnistlib.overfitting) on hand-made histories: the numbers it says, noise from the number of
validation images, the lab settings named, and the noisy-labels caveat; and the verdict on the validation loss."""

import math

import numpy as np
import pytest

from mnistlib import overfitting
from mnistlib.training import loop


def history(*pairs) -> list:
    """Epoch records from (training accuracy, validation accuracy) pairs."""
    return [{"epoch": epoch, "loss": 0.1, "accuracy": train, "val_loss": 0.2, "val_accuracy": validation}
            for epoch, (train, validation) in enumerate(pairs, start=1)]


def test_the_issue_table_row_overfits_beyond_noise():
    verdict = overfitting.gap_verdict(history((0.9, 0.85), (1.0, 0.888)), 6000, {"train_images": 500})
    # sqrt(0.888 * 0.112 / 6000) = 0.00407 -> 0.41 points; 2 x 0.41 = 0.82 points.
    assert verdict.standard_error == pytest.approx(100 * math.sqrt(0.888 * 0.112 / 6000))
    assert (verdict.epoch, verdict.training, verdict.validation, verdict.gap, verdict.noise) == (2, 100.0, 88.8,
                                                                                                 11.2, 0.82)
    assert verdict.beyond_noise and verdict.kind == "overfits"
    assert overfitting.gap_sentence(verdict) == (
        "After epoch 2, training accuracy is 100.0% and validation accuracy 88.8%: a gap of 11.2 points, more than "
        "2 standard errors of the validation figure (2 × 0.41 = 0.82 points on 6,000 validation images), so it "
        "overfits beyond noise — lab settings changed from their defaults: 500 training images.")


def test_the_same_gap_is_within_noise_on_few_validation_images():
    # A 3-point gap at p = 0.8: beyond noise on 6,000 images (2 SE = 1.04 points), within it on 100 (8.00 points).
    records = history((0.83, 0.80))
    assert overfitting.gap_verdict(records, 6000).kind == "overfits"
    few = overfitting.gap_verdict(records, 100)
    assert few.noise == 8.0 and few.kind == "within noise" and not few.beyond_noise
    sentence = overfitting.gap_sentence(few)
    assert "a gap of 3.0 points, within 2 standard errors" in sentence and "(2 × 4.00 = 8.00 points on 100" in sentence
    assert "so the gap alone shows no overfitting beyond noise — every lab setting at its default." in sentence


def test_a_gap_equal_to_the_noise_is_not_beyond_it():
    # p = 0.5, n = 2500: SE = 1.00 point, 2 SE = 2.00; a gap of exactly 2.0 points is not more than that.
    verdict = overfitting.gap_verdict(history((0.52, 0.50)), 2500)
    assert (verdict.gap, verdict.noise, verdict.kind) == (2.0, 2.0, "within noise")
    assert overfitting.gap_verdict(history((0.521, 0.50)), 2500).kind == "overfits"  # 2.1 > 2.0
    behind = overfitting.gap_verdict(history((0.49, 0.50)), 2500)
    assert behind.kind == "within noise" and ": a gap of −1.0 points, within 2" in overfitting.gap_sentence(behind)


def test_validation_ahead_beyond_noise_is_said_as_such():
    # The issue's augmentation row: training 87.8%, validation 90.0%.
    verdict = overfitting.gap_verdict(history((0.878, 0.90)), 6000, {"train_images": 500, "augment": True})
    assert verdict.kind == "validation ahead" and verdict.gap == -2.2
    sentence = overfitting.gap_sentence(verdict)
    assert ": validation is 2.2 points higher, more than 2 standard errors" in sentence
    assert sentence.endswith("so the gap shows no overfitting — lab settings changed from their defaults: 500 training "
                             "images, augmentation.")


def test_noisy_labels_are_named_and_the_training_figure_is_said_to_be_against_them():
    verdict = overfitting.gap_verdict(history((0.984, 0.674)), 6000, {"label_noise": 0.3, "train_images": 500})
    assert verdict.label_noise == 0.3 and verdict.gap == 31.0
    sentence = overfitting.gap_sentence(verdict)
    assert sentence.startswith("After epoch 1, training accuracy is 98.4% (measured against its training labels, 30% "
                               "of which were replaced by a wrong class) and validation accuracy 67.4%: a gap of 31.0")
    # Known names first in their order, whatever order they came in.
    assert sentence.endswith("lab settings changed from their defaults: 500 training images, 30% noisy labels.")
    assert "measured against" not in overfitting.gap_sentence(overfitting.gap_verdict(history((0.98, 0.67)), 6000))


def test_every_setting_is_phrased_and_defaults_are_left_out():
    settings = {"early_stopping": 5, "l2": 0.01, "augment": True, "label_noise": 0.0, "train_images": None,
                "mixup_alpha": 0.2, "shuffle_labels": True, "tta": False}
    pairs = overfitting.changed_settings(settings)
    assert [name for name, _ in pairs] == ["l2", "augment", "early_stopping", "mixup_alpha", "shuffle_labels"]
    assert [overfitting.setting_phrase(*pair) for pair in pairs] == [
        "L2 0.01", "augmentation", "early stopping (patience 5)", "mixup alpha 0.2", "shuffle labels"]
    assert overfitting.setting_phrase("train_images", 12000) == "12,000 training images"
    assert overfitting.setting_phrase("label_noise", 0.125) == "12.5% noisy labels"
    assert overfitting.changed_settings(None) == ()


def test_a_card_names_its_subset_only_when_it_is_smaller_than_the_training_part():
    card = {"id": "x", "train_images": 54000, "label_noise": 0.3, "labels_changed": 16200}
    assert overfitting.card_settings(card, training_part_size=54000) == {"label_noise": 0.3}
    assert overfitting.card_settings({**card, "train_images": 500}, 54000) == {"train_images": 500, "label_noise": 0.3}
    assert overfitting.card_settings({"id": "plain"}, 54000) == {}  # a card from before the lab


def test_no_verdict_without_a_validation_figure():
    assert overfitting.gap_verdict([], 6000) is None
    assert overfitting.gap_verdict([{"epoch": 1, "accuracy": 0.9, "val_accuracy": None}], 6000) is None
    assert overfitting.gap_verdict(history((0.9, 0.8)), 0) is None
    assert overfitting.gap_verdict(history((float("nan"), 0.8)), 600) is None
    assert "cannot be judged" in overfitting.gap_sentence(None)


@pytest.mark.parametrize(("size", "split"), [(60000, 0.1), (2000, 0.1), (1001, 0.15), (999, 0.0), (7, 0.5)])
def test_validation_count_matches_the_training_loops_split(size, split):
    images, labels = np.zeros((size, 1)), np.zeros(size)
    _, (validation, _) = loop.split_validation(images, labels, split)
    assert overfitting.validation_count(size, split) == len(validation)


def test_a_cards_verdict_uses_its_validation_images_and_lab_settings():
    card = {"spec": {"validation_split": 0.1}, "history": history((0.984, 0.674)), "train_images": 500,
            "label_noise": 0.3, "labels_changed": 150}
    verdict = overfitting.card_verdict(card, training_set_size=60000)
    assert verdict.validation_images == 6000 and verdict.settings == (("train_images", 500), ("label_noise", 0.3))
    every_image = overfitting.card_verdict({**card, "train_images": 54000}, 60000)
    assert every_image.settings == (("label_noise", 0.3),)
    assert overfitting.card_verdict({"spec": {"validation_split": 0.0}, "history": history((0.9, 0.9))}, 60000) is None


def test_the_loss_trend_is_said_as_facts():
    records = [{"epoch": epoch, "accuracy": 0.9, "val_accuracy": 0.8, "loss": 0.1, "val_loss": value}
               for epoch, value in enumerate([0.9, 0.7, 0.65], start=1)]
    assert overfitting.loss_trend_sentence(records).startswith(
        "Validation loss is still falling (lowest after the last epoch, 0.6500): the model already does better")
    records[1]["val_loss"] = 0.6
    assert overfitting.loss_trend_sentence(records) == (
        "Validation loss was lowest after epoch 2 (0.6000) and is 0.6500 after the last epoch.")
    records[0]["val_loss"] = None
    assert overfitting.loss_trend_sentence(records) is None


# ## The verdict on the validation loss: overfitting, not yet, or unknown


def test_overfitting_is_judged_on_validation():
    def history(losses, validation_losses):
        return [{"epoch": index + 1, "loss": loss, "val_loss": validation}
                for index, (loss, validation) in enumerate(zip(losses, validation_losses, strict=True))]

    verdict, sentence = overfitting.overfitting_verdict(history([0.5, 0.3, 0.2, 0.1], [0.40, 0.30, 0.32, 0.35]))
    assert verdict == "overfitting" and "lowest after epoch 2 (0.3000)" in sentence and "About 2 epochs" in sentence
    assert overfitting.overfitting_verdict(history([0.5, 0.3, 0.2], [0.4, 0.3, 0.25]))[0] == "not yet"
    assert overfitting.overfitting_verdict(history([0.5, 0.6, 0.7], [0.4, 0.5, 0.6]))[0] == "not yet"  # unsteady
    assert overfitting.overfitting_verdict(history([0.5], [0.4]))[0] == "unknown"
    assert overfitting.overfitting_verdict([{"epoch": 1, "loss": 0.5, "val_loss": None}])[0] == "unknown"
    # A rise within noise (0.1500 → 0.1501) is not overfitting; a real rise "may" be reduced, not "would".
    assert overfitting.overfitting_verdict(history([0.5, 0.3, 0.2], [0.2, 0.1500, 0.1501]))[0] == "not yet"
    assert "may reduce it" in sentence and "would avoid" not in sentence
