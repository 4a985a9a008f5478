"""Metrics on test-set predictions, vectorised with numpy: labels, accuracy, confusion, mistakes."""

import csv
import io

import numpy as np

NUM_CLASSES = 10  # MNIST and Fashion-MNIST; other datasets pass num_classes = len(class_names)


def infer_num_classes(*label_arrays) -> int:
    """The class count implied by integer labels: the largest label + 1 (pass num_classes when it is known)."""
    largest = [int(np.max(labels)) for labels in label_arrays if np.size(labels)]
    return max(largest, default=0) + 1


def check_probabilities(probabilities: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """probabilities (M, num_classes) float, finite, rows summing to 1 (±1e-3); ValueError otherwise."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[1] != num_classes:
        raise ValueError(f"Expected probabilities of shape (M, {num_classes}), got {probabilities.shape}.")
    if not np.isfinite(probabilities).all() or not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("Each row of probabilities must be finite and sum to 1.")
    return probabilities


def predicted_labels(probabilities: np.ndarray) -> np.ndarray:
    """The predicted class of each image: np.argmax of its row; (M, classes) -> (M,) int64."""
    return np.argmax(probabilities, axis=1)


def accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Fraction of images whose predicted label equals the true label."""
    return float(np.mean(np.asarray(labels) == np.asarray(predicted))) if len(labels) else 0.0


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Counts (num_classes, num_classes) int64: row = true class, column = predicted class.

    num_classes None: the largest label or prediction + 1; pass len(class_names) when some class may be absent.
    """
    num_classes = num_classes or infer_num_classes(labels, predicted)
    flat = np.asarray(labels, np.int64) * num_classes + np.asarray(predicted, np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (float64, rows sum to 1; an empty row stays 0)."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape, np.float64), where=totals > 0)


def per_class_metrics(labels, predicted, num_classes: int | None = None) -> dict:
    """precision, recall and accuracy (= recall: right answers among the class's images) and support, per class."""
    matrix = confusion_matrix(labels, predicted, num_classes)
    num_classes = len(matrix)
    right = np.diag(matrix).astype(np.float64)
    predicted_totals, support = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(right, predicted_totals, out=np.zeros(num_classes), where=predicted_totals > 0)
    recall = np.divide(right, support, out=np.zeros(num_classes), where=support > 0)
    return {"precision": precision, "recall": recall, "accuracy": recall, "support": support}


def most_confused(labels, predicted, top: int = 10, num_classes: int | None = None) -> list[tuple[int, int, int]]:
    """The most frequent mistakes as (true, predicted, count), largest count first (ties by class)."""
    matrix = confusion_matrix(labels, predicted, num_classes)
    np.fill_diagonal(matrix, 0)
    true_classes, predicted_classes = np.nonzero(matrix)
    counts = matrix[true_classes, predicted_classes]
    order = np.lexsort((predicted_classes, true_classes, -counts))[:top]
    return [(int(true_classes[i]), int(predicted_classes[i]), int(counts[i])) for i in order]


def losses(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Cross-entropy of each image, −log p[true class]; (M,) float64."""
    chosen = probabilities[np.arange(len(labels)), np.asarray(labels, np.int64)]
    return -np.log(np.clip(chosen.astype(np.float64), 1e-7, 1.0))


def confident_mistakes(labels: np.ndarray, probabilities: np.ndarray, k: int = 9) -> np.ndarray:
    """Indices of the k wrong predictions with the highest loss, highest first; (≤k,) int64."""
    wrong = np.flatnonzero(predicted_labels(probabilities) != labels)
    order = np.argsort(-losses(labels[wrong], probabilities[wrong]), kind="stable")
    return wrong[order[:k]]


def indices_for_cell(labels, predicted, true_class: int, predicted_class: int) -> np.ndarray:
    """Indices of the test images with this (true, predicted) pair, in test-set order."""
    return np.flatnonzero((np.asarray(labels) == true_class) & (np.asarray(predicted) == predicted_class))


def per_epoch_confusion(labels: np.ndarray, probabilities_per_epoch: np.ndarray) -> np.ndarray:
    """Confusion matrices after each epoch: (epochs, M, classes) -> (epochs, classes, classes) int64."""
    num_classes = np.shape(probabilities_per_epoch)[2]
    return np.stack([confusion_matrix(labels, predicted_labels(p), num_classes) for p in probabilities_per_epoch])


def first_layer_templates(kernel: np.ndarray) -> np.ndarray:
    """The first Dense layer's weights (784, units) as images (units, 28, 28) float32: one template per unit."""
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim != 2 or kernel.shape[0] != 28 * 28:
        raise ValueError(f"Expected a first-layer kernel of shape (784, units), got {kernel.shape}.")
    return kernel.T.reshape(-1, 28, 28)


def class_means(images: np.ndarray, labels: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """The average image of each class: images (N, 28, 28) uint8 -> (classes, 28, 28) float32 in 0–255."""
    num_classes = num_classes or infer_num_classes(labels)
    means = [images[labels == label].mean(axis=0, dtype=np.float64) if np.any(labels == label)
             else np.zeros(images.shape[1:]) for label in range(num_classes)]
    return np.stack(means).astype(np.float32)


def class_counts(labels: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """How many images each class has; (classes,) int64 (num_classes None: the largest label + 1)."""
    return np.bincount(np.asarray(labels, np.int64), minlength=num_classes or infer_num_classes(labels))


def predictions_csv(labels: np.ndarray, probabilities: np.ndarray, class_names) -> str:
    """CSV text: index, true, predicted, confidence, then one probability column per class."""
    predicted = predicted_labels(probabilities)
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(["index", "true", "predicted", "confidence", *class_names])
    for index in range(len(labels)):
        row = probabilities[index]
        writer.writerow([index, class_names[labels[index]], class_names[predicted[index]],
                         f"{row[predicted[index]]:.4f}", *(f"{value:.4f}" for value in row)])
    return output.getvalue()


def filter_indices(labels, predicted, true_class: int | None = None, result: str = "all") -> np.ndarray:
    """Test indices matching a true class (None: any) and a result ("all", "right" or "wrong")."""
    if result not in ("all", "right", "wrong"):
        raise ValueError("result must be 'all', 'right' or 'wrong'.")
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    mask = np.ones(len(labels), bool) if true_class is None else labels == true_class
    if result != "all":
        mask &= (labels == predicted) == (result == "right")
    return np.flatnonzero(mask)


def disagreements(first_predicted, second_predicted) -> np.ndarray:
    """Indices where two models' predicted labels differ, in test-set order."""
    return np.flatnonzero(np.asarray(first_predicted) != np.asarray(second_predicted))
