"""Evaluation against hand-computed cases and a plain-Python reference."""

import numpy as np
import pytest

from mnistlib import evaluation

LABELS = np.array([0, 0, 1, 1, 2, 2])
PREDICTED = np.array([0, 1, 1, 1, 0, 2])


def test_accuracy_and_confusion_by_hand():
    assert evaluation.accuracy(LABELS, PREDICTED) == pytest.approx(4 / 6)
    matrix = evaluation.confusion_matrix(LABELS, PREDICTED, num_classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    np.testing.assert_allclose(evaluation.normalize_rows(matrix), [[0.5, 0.5, 0], [0, 1, 0], [0.5, 0, 0.5]])


def test_per_class_metrics_by_hand():
    metrics = evaluation.per_class_metrics(LABELS, PREDICTED, num_classes=3)
    np.testing.assert_allclose(metrics["precision"], [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(metrics["recall"], [1 / 2, 1, 1 / 2])
    np.testing.assert_array_equal(metrics["support"], [2, 2, 2])


def test_most_confused_and_cells():
    labels = np.array([3, 3, 3, 5, 5, 8, 8, 8])
    predicted = np.array([5, 5, 3, 3, 8, 8, 3, 3])
    assert evaluation.most_confused(labels, predicted) == [(3, 5, 2), (8, 3, 2), (5, 3, 1), (5, 8, 1)]
    np.testing.assert_array_equal(evaluation.indices_for_cell(labels, predicted, 8, 3), [6, 7])


def test_predicted_labels_is_argmax_and_probabilities_are_checked():
    probabilities = np.array([[0.1, 0.7, 0.2] + [0] * 7, [0.5, 0.2, 0.3] + [0] * 7])
    np.testing.assert_array_equal(evaluation.predicted_labels(probabilities), [1, 0])
    evaluation.check_probabilities(probabilities)
    with pytest.raises(ValueError, match="sum to 1"):
        evaluation.check_probabilities(probabilities * 2)
    with pytest.raises(ValueError, match="shape"):
        evaluation.check_probabilities(probabilities[:, :3])


def test_confident_mistakes_are_ordered_by_loss():
    labels = np.array([0, 1, 2, 3])
    probabilities = np.full((4, 10), 0.0)
    probabilities[0, [0, 5]] = [0.9, 0.1]  # right
    probabilities[1, [1, 5]] = [0.3, 0.7]  # wrong, loss -log 0.3
    probabilities[2, [2, 5]] = [0.01, 0.99]  # wrong, loss -log 0.01: the most confident mistake
    probabilities[3, [3, 5]] = [0.45, 0.55]  # wrong, loss -log 0.45
    np.testing.assert_array_equal(evaluation.confident_mistakes(labels, probabilities, k=2), [2, 1])


def test_against_a_reference_loop(rng):
    labels = rng.integers(0, 10, 500)
    predicted = np.where(rng.random(500) < 0.7, labels, rng.integers(0, 10, 500))
    reference = np.zeros((10, 10), int)
    for true, guess in zip(labels, predicted, strict=True):
        reference[true, guess] += 1
    np.testing.assert_array_equal(evaluation.confusion_matrix(labels, predicted), reference)
    assert evaluation.accuracy(labels, predicted) == sum(t == p for t, p in zip(labels, predicted, strict=True)) / 500
    mask = [i for i in range(500) if labels[i] == 4 and predicted[i] != 4]
    np.testing.assert_array_equal(evaluation.filter_indices(labels, predicted, 4, "wrong"), mask)


def test_templates_means_counts_and_csv(rng):
    kernel = rng.random((784, 3)).astype(np.float32)
    templates = evaluation.first_layer_templates(kernel)
    assert templates.shape == (3, 28, 28)
    np.testing.assert_array_equal(templates[1].ravel(), kernel[:, 1])
    images = rng.integers(0, 256, (30, 28, 28)).astype(np.uint8)
    labels = np.arange(30) % 10
    means = evaluation.class_means(images, labels)
    np.testing.assert_allclose(means[3], images[labels == 3].mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(evaluation.class_counts(labels), [3] * 10)
    probabilities = np.eye(10)[[1, 2]]
    text = evaluation.predictions_csv(np.array([1, 3]), probabilities, [str(d) for d in range(10)])
    lines = text.strip().splitlines()
    assert lines[0].startswith("index,true,predicted,confidence,0,1") and len(lines) == 3
    assert lines[2].startswith("1,3,2,1.0000")


def test_per_epoch_confusion():
    labels = np.array([0, 1])
    per_epoch = np.stack([np.eye(10)[[1, 1]], np.eye(10)[[0, 1]]])
    matrices = evaluation.per_epoch_confusion(labels, per_epoch)
    assert matrices.shape == (2, 10, 10) and matrices[0, 0, 1] == 1 and matrices[1, 0, 0] == 1
