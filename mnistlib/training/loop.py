"""A fast training loop for small Keras models: the epochs, validation and test predictions around the compiled
steps of fast_fit.py (FastFit, compiled_for), the training data kept resident, the hidden-space map.

Measured on 2 cores: 0.3 s per MNIST epoch for the default model, against 3.3 s for the tutorial. train() raises
LossNotFinite (from fast_fit.py, named here too: callers catch loop.LossNotFinite).
"""

import collections
import math
import time

import numpy as np
import tensorflow as tf

from mnistlib.training.early_stopping import EarlyStopping
from mnistlib.training.fast_fit import PREDICT_BATCH, TrainingStopped, compiled_for
from mnistlib.training.fast_fit import LossNotFinite as LossNotFinite

# Progress is reported about every REPORT_SECONDS.
REPORT_SECONDS = 0.25
# Test-set hidden activations kept for the hidden-space map, at most this many bytes (float16): past it, only
# every k-th epoch (and always the last finished one) is kept.
MAP_BUDGET_BYTES = 256 * 2**20


def split_validation(x: np.ndarray, y: np.ndarray, fraction: float):
    """(x_train, y_train), (x_val, y_val): the last fraction held back, exactly as Keras's validation_split."""
    split_at = int(math.floor(len(x) * (1 - fraction)))  # Keras 3: floor(batch_dim * (1 - validation_split))
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def keras_predict(model, images: np.ndarray) -> np.ndarray:
    """Probabilities (N, C) float32 of images (N, 28, 28) uint8, exactly as Keras's
    `model.predict(images / 255, batch_size=PREDICT_BATCH)` gives them (the same compiled step on the same batches),
    without the ~0.15 s that predict spends setting up its data pipeline on every call."""
    inputs = images.astype(np.float32) / np.float32(255.0)
    return np.concatenate([np.asarray(model.predict_on_batch(inputs[start : start + PREDICT_BATCH]))
                           for start in range(0, max(len(inputs), 1), PREDICT_BATCH)])


def mean_loss_and_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Cross-entropy and accuracy of probabilities (N, C) against labels (N,), as Keras's evaluate; None if N = 0."""
    if len(labels) == 0:
        return None, None
    chosen = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    return float(-np.log(chosen).mean()), float((probabilities.argmax(axis=1) == labels).mean())


_resident: collections.OrderedDict = collections.OrderedDict()  # (ids, split) -> (arrays, tensors), last used last
RESIDENT_SPLITS = 2


def resident(x_train: np.ndarray, y_train: np.ndarray, validation_split: float):
    """The training part of (x_train, y_train) after the validation split, as tensors (uint8 images, int32 labels)
    kept in this process for the next job on the same data and split (copying 42 MB of MNIST images into a new
    tensor takes up to 0.1 s). x_train must not change while kept (datasets are loaded read-only)."""
    key = (id(x_train), id(y_train), validation_split)  # the entry keeps both arrays alive: their ids stay theirs
    found = _resident.pop(key, None)
    if found is None:
        (images, labels), _ = split_validation(x_train, y_train, validation_split)
        found = (x_train, y_train, (tf.constant(images), tf.constant(labels.astype(np.int32))))
    _resident[key] = found
    while len(_resident) > RESIDENT_SPLITS:
        _resident.popitem(last=False)
    return found[2]


def train(model, data, spec, epochs: int, on_progress, on_epoch_end, should_stop, training_part=None, l2=0.0,
          augment=False, early_stopping=None, first_epoch: int = 1) -> dict:
    """Train a freshly built model on data (a datasets.Dataset) for epochs; training_part: (images, labels) to learn
    from instead of all the training part (the lab's subset or noisy labels), the validation part unchanged. l2: the
    weight decay the model was built with (each record's loss is without its penalty, loss_with_penalty with it);
    augment: transform the training images; early_stopping: patience (early_stopping.py), the result's
    "stopped_epoch" and "best_epoch" say what it did.

    on_progress(epoch, batch, batches, loss, accuracy, elapsed) is called about every REPORT_SECONDS and at each
    epoch's last batch; on_epoch_end(record, elapsed) after each epoch with its history record (epoch, loss,
    accuracy, val_loss, val_accuracy). Returns {"model" (the trained Keras model: the cached one of this
    architecture, not the one passed in), "history", "test_probabilities" (epochs, M, C) float16 or None,
    "stopped"}. Raises LossNotFinite; a stop keeps the weights of the last finished epoch. first_epoch > 1: model
    continues a training that ran first_epoch - 1 epochs (its weights and optimizer state): epochs are numbered on,
    and the shuffling goes on where that training left it.
    """
    _, (x_val, y_val) = split_validation(data.x_train, data.y_train, spec.validation_split)
    fast = compiled_for(model, spec, l2, augment)
    model = fast.model
    stopper = None if early_stopping is None else EarlyStopping(early_stopping)
    images, labels = resident(data.x_train, data.y_train, spec.validation_split) if training_part is None else \
        (tf.constant(training_part[0]), tf.constant(training_part[1].astype(np.int32)))
    fast.skip_epochs(first_epoch - 1, int(images.shape[0]))
    history, per_epoch, kept_weights, started = [], [], None, time.monotonic()
    hidden_map = HiddenMap(epochs, len(data.x_test), model.layers[-1].input.shape[-1])
    last_report = [0.0]

    def ended(stopped: bool) -> dict:
        result = {"model": model, "history": history, "stopped": stopped, "hidden_map": hidden_map.result(),
                  "test_probabilities": np.stack(per_epoch) if per_epoch else None}
        if stopper is not None and not stopped and history:  # as Keras: the best epoch's weights are kept
            model.set_weights(stopper.best_weights)
            result.update(stopped_epoch=history[-1]["epoch"], best_epoch=stopper.best_epoch)
        return result

    for epoch in range(first_epoch, first_epoch + epochs):
        def on_chunk(batch, batches, loss, accuracy, epoch=epoch):
            now = time.monotonic()
            if now - last_report[0] >= REPORT_SECONDS or batch == batches:
                last_report[0] = now
                on_progress(epoch, batch, batches, loss, accuracy, now - started)

        try:
            loss, accuracy = fast.run_epoch(images, labels, on_chunk, should_stop)
        except TrainingStopped:
            if kept_weights is not None:
                model.set_weights(kept_weights)
            return ended(stopped=True)
        val_loss, val_accuracy = mean_loss_and_accuracy(fast.predict(x_val), y_val)
        record = {"epoch": epoch, "loss": loss, "accuracy": accuracy,
                  "val_loss": val_loss, "val_accuracy": val_accuracy}
        if l2:
            record["loss_with_penalty"] = loss + fast.epoch_penalty
        history.append(record)
        test_probabilities, test_hidden = fast.predict(data.x_test, hidden=True)
        per_epoch.append(test_probabilities.astype(np.float16))
        hidden_map.add(epoch, test_hidden)
        kept_weights = model.get_weights()
        on_epoch_end(record, time.monotonic() - started)
        if stopper is not None and stopper.should_stop(epoch, val_loss, kept_weights):
            break
    return ended(stopped=False)


class HiddenMap:
    """The test set's hidden activations after each epoch (within MAP_BUDGET_BYTES), projected at the end on the
    last epoch's two principal axes, so an epoch slider shows the clusters forming on fixed axes."""

    def __init__(self, epochs: int, images: int, units: int):
        per_epoch = max(1, images * units * 2)
        self.stride = max(1, math.ceil(epochs * per_epoch / MAP_BUDGET_BYTES))
        self.kept: dict[int, np.ndarray] = {}

    def add(self, epoch: int, activations: np.ndarray) -> None:
        """Keep epoch's activations (N, units) float16 if it is on the stride; the latest one is always kept."""
        latest = max(self.kept, default=None)
        if latest is not None and latest % self.stride != 0:
            del self.kept[latest]  # it was only kept as the latest
        self.kept[epoch] = activations

    def result(self) -> dict | None:
        """{"epochs": [...], "points": (epochs kept, N, 2) float16}, or None before any epoch finished."""
        if not self.kept or len(next(iter(self.kept.values()))) < 2:
            return None
        from mnistlib import insight

        epochs = sorted(self.kept)
        points, _ = insight.hidden_space([self.kept[epoch].astype(np.float32) for epoch in epochs])
        return {"epochs": epochs, "points": points.astype(np.float16)}
