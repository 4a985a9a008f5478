"""A fast training loop for small Keras models: data resident as tensors, many compiled steps per call.

Keras's `model.fit` feeds each batch through tf.data and Python; for a 100k-parameter model that
overhead is most of the time. Here the images stay on the device as uint8, each epoch is shuffled
there, and one XLA-compiled call runs a chunk of optimizer steps in a `tf.while_loop`. The model,
its optimizer and loss are the ordinary Keras ones, so the saved model is a plain Keras model.
Measured on 2 cores: 0.3 s per MNIST epoch for the default model, against 3.3 s for the tutorial.

Compiling those calls takes about a second, so a worker process keeps the compiled functions of the last few
architectures (`compiled_for`): a new job of the same architecture loads its freshly initialised variables
(weights, dropout seeds, optimizer state) into the cached model and trains with no compilation at all. The
result is bit-identical to training a fresh model (tested).
"""

import collections
import math
import time

import keras
import numpy as np
import tensorflow as tf

from mnistlib.training import augment as augmentation
from mnistlib.training.early_stopping import EarlyStopping

# Progress is reported about every REPORT_SECONDS; a chunk of steps is sized to take about CHUNK_SECONDS.
REPORT_SECONDS = 0.25
CHUNK_SECONDS = 0.15
# Test-set hidden activations kept for the hidden-space map, at most this many bytes (float16): past it, only
# every k-th epoch (and always the last finished one) is kept.
MAP_BUDGET_BYTES = 256 * 2**20
PREDICT_BATCH = 1000
CACHED_ARCHITECTURES = 4


class TrainingStopped(Exception):
    """The user asked to stop; the weights of the last finished epoch have been restored."""


class LossNotFinite(Exception):
    """The loss became NaN or infinite: the weights blew up."""


def steps_per_chunk(model, batch_size: int) -> int:
    """Optimizer steps per compiled call so one call takes about CHUNK_SECONDS (a power of two, 1–512)."""
    flops_per_image = 2 * model.count_params()
    for layer in model.layers:
        if layer.__class__.__name__ == "Conv2D":
            height, width, filters = layer.output.shape[1:]
            kernel = int(np.prod(layer.kernel.shape[:-1]))
            flops_per_image += 2 * height * width * filters * kernel
    # Training costs about three forward passes; 3e10 FLOP/s and 50 µs per step fit this 2-core CPU.
    seconds_per_step = 3 * flops_per_image * batch_size / 3e10 + 5e-5
    steps = max(1, min(512, int(CHUNK_SECONDS / seconds_per_step)))
    return 2 ** int(math.log2(steps))


def split_validation(x: np.ndarray, y: np.ndarray, fraction: float):
    """(x_train, y_train), (x_val, y_val): the last fraction held back, exactly as Keras's validation_split."""
    split_at = int(math.floor(len(x) * (1 - fraction)))  # Keras 3: floor(batch_dim * (1 - validation_split))
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


class FastFit:
    """Compiled train/predict functions for one Keras model (compiled with a loss and an optimizer)."""

    def __init__(self, model, batch_size: int, seed: int, augment: bool = False):
        self.model = model
        self.batch_size = batch_size
        self.chunk = steps_per_chunk(model, batch_size)
        self.generator = tf.random.Generator.from_seed(seed)
        # augment: each training image randomly shifted, rotated and zoomed (augment.py), the draws keyed by
        # (seed, number of chunks run so far), so a run repeats exactly. The penalty of the last epoch (the mean
        # of sum(model.losses), L2 weight decay) is kept in epoch_penalty.
        self.augment, self.seed, self.chunks_run, self.epoch_penalty = augment, seed, 0, 0.0
        self.loss_function = keras.losses.get(model.loss)
        self.model.optimizer.build(model.trainable_variables)
        # XLA makes small Dense models about 4x faster on CPU, but its CPU convolutions are ~18x slower
        # than TensorFlow's oneDNN kernels (measured here: 116 vs 6.5 ms per CNN step), so CNNs skip it.
        jit = not any(layer.__class__.__name__ == "Conv2D" for layer in model.layers)
        self._train_chunk = tf.function(self._train_chunk_eager, jit_compile=jit)
        self._predict_batch = tf.function(self._predict_eager, jit_compile=jit)

    def _predict_eager(self, images):
        """(hidden, probabilities) of a batch: the output layer's input (the last hidden layer's activations, what
        the hidden-space map shows) and its output, in one forward pass."""
        hidden = images
        for layer in self.model.layers[:-1]:
            hidden = layer(hidden, training=False)
        return hidden, self.model.layers[-1](hidden, training=False)

    def _train_chunk_eager(self, images, labels, seed):
        """Run images.shape[0] optimizer steps; images (steps, batch, 28, 28) uint8; seed (2,) int32 keys the
        augmentation's draws (unused without it). Returns the sums of the loss (without the penalty), of the
        penalty sum(model.losses) (L2 weight decay; 0 without it) and of the hits."""
        model, optimizer = self.model, self.model.optimizer
        if self.augment:
            transforms = augmentation.random_parameters((tf.shape(images)[0], tf.shape(images)[1]), seed)

        def step(index, loss_sum, penalty_sum, hits):
            inputs = tf.cast(images[index], tf.float32) / 255.0
            if self.augment:
                inputs = augmentation.warp(inputs, transforms[index])
            with tf.GradientTape() as tape:
                probabilities = model(inputs, training=True)
                loss = tf.reduce_mean(self.loss_function(labels[index], probabilities))
                penalty = tf.add_n(model.losses) if model.losses else tf.constant(0.0)
                total = loss + penalty
            gradients = tape.gradient(total, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
            predicted = tf.cast(tf.argmax(probabilities, axis=1), labels.dtype)
            hits += tf.reduce_sum(tf.cast(tf.equal(predicted, labels[index]), tf.float32))
            return index + 1, loss_sum + loss, penalty_sum + penalty, hits

        _, loss_sum, penalty_sum, hits = tf.while_loop(lambda index, *_: index < tf.shape(images)[0], step,
                                                       (0, 0.0, 0.0, 0.0))
        return loss_sum, penalty_sum, hits

    def load(self, fresh, seed: int) -> None:
        """Start over from a freshly built model of the same architecture: its initial weights, dropout seeds and
        optimizer state (built, not yet stepped) replace this model's, so training is as if from fresh."""
        fresh.optimizer.build(fresh.trainable_variables)
        for target, source in ((self.model.variables, fresh.variables),
                               (self.model.optimizer.variables, fresh.optimizer.variables)):
            if len(target) != len(source):
                raise ValueError("load() needs a model of the same architecture.")
            for variable, value in zip(target, source, strict=True):
                variable.assign(value)
        self.generator = tf.random.Generator.from_seed(seed)
        self.seed, self.chunks_run = seed, 0

    def precompile(self, train_size: int) -> None:
        """Compile the training chunks an epoch over train_size images uses (and prediction) without changing
        the model, so the first real epoch runs at full speed."""
        steps = train_size // self.batch_size
        saved = [variable.numpy() for variable in (*self.model.variables, *self.model.optimizer.variables)]
        for count in {min(self.chunk, steps), steps % self.chunk} - {0}:
            images = tf.zeros((count, self.batch_size, *self.model.input_shape[1:]), tf.uint8)
            self._train_chunk(images, tf.zeros((count, self.batch_size), tf.int32), tf.zeros(2, tf.int32))
        self.predict(np.zeros((1, *self.model.input_shape[1:]), np.uint8))
        for variable, value in zip((*self.model.variables, *self.model.optimizer.variables), saved, strict=True):
            variable.assign(value)

    def predict(self, images: np.ndarray, hidden: bool = False):
        """Probabilities (N, C) float32 for images (N, 28, 28) uint8, in fixed-size compiled batches; with hidden,
        (probabilities, hidden activations (N, units) float16)."""
        count = len(images)
        padded = np.zeros((max(1, math.ceil(count / PREDICT_BATCH)) * PREDICT_BATCH, *images.shape[1:]), np.float32)
        padded[:count] = images / np.float32(255.0)
        outputs = [self._predict_batch(padded[start : start + PREDICT_BATCH])
                   for start in range(0, len(padded), PREDICT_BATCH)]
        probabilities = np.concatenate([output[1].numpy() for output in outputs])[:count]
        if not hidden:
            return probabilities
        return probabilities, np.concatenate([output[0].numpy().astype(np.float16) for output in outputs])[:count]

    def run_epoch(self, images, labels, on_chunk, should_stop) -> tuple[float, float]:
        """One shuffled pass over resident tensors; returns (mean loss, accuracy). The last partial batch is
        left out, as with drop_remainder: a different few images each epoch, since the order is shuffled."""
        steps = int(images.shape[0]) // self.batch_size
        order = tf.argsort(self.generator.uniform([int(images.shape[0])]))[: steps * self.batch_size]
        shuffled_images = tf.reshape(tf.gather(images, order), (steps, self.batch_size, *images.shape[1:]))
        shuffled_labels = tf.reshape(tf.gather(labels, order), (steps, self.batch_size))
        loss_total, penalty_total, hits_total, done = 0.0, 0.0, 0.0, 0
        while done < steps:
            if should_stop():
                raise TrainingStopped
            count = min(self.chunk, steps - done)
            seed = tf.constant([self.seed, self.chunks_run], tf.int32)
            self.chunks_run += 1
            loss_sum, penalty_sum, hits = self._train_chunk(shuffled_images[done : done + count],
                                                            shuffled_labels[done : done + count], seed)
            loss_total, hits_total, done = loss_total + float(loss_sum), hits_total + float(hits), done + count
            penalty_total += float(penalty_sum)
            if not math.isfinite(loss_total + penalty_total):
                raise LossNotFinite
            on_chunk(done, steps, loss_total / done, hits_total / (done * self.batch_size))
        self.epoch_penalty = penalty_total / max(steps, 1)
        return loss_total / max(steps, 1), hits_total / max(steps * self.batch_size, 1)


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


_compiled: collections.OrderedDict = collections.OrderedDict()  # architecture -> FastFit, most recent last
_resident: collections.OrderedDict = collections.OrderedDict()  # (ids, split) -> (arrays, tensors), last used last
RESIDENT_SPLITS = 2


def architecture_key(spec, num_classes: int, l2: float = 0.0, augment: bool = False) -> tuple:
    """What the compiled functions depend on: every setting but the seed and the learning rate (a variable), and
    the lab's weight decay and augmentation when set."""
    settings = spec.to_dict()
    settings.pop("seed")
    settings.pop("learning_rate")
    settings.pop("validation_split")  # only changes the data's size; compiled shapes are cached per size
    lab = (("l2", l2),) * bool(l2) + (("augment", True),) * bool(augment)
    return tuple(sorted(settings.items())) + (("classes", num_classes),) + lab


def compiled_for(model, spec, l2: float = 0.0, augment: bool = False) -> FastFit:
    """Compiled functions for a freshly built model: this process's cached ones for its architecture, loaded with
    the model's initial state (no compilation), or new ones. Train the returned FastFit's .model. l2: the factor the
    model was built with (models.build); augment: transform the training images."""
    key = architecture_key(spec, model.output_shape[-1], l2, augment)
    fast = _compiled.pop(key, None)
    if fast is None:
        fast = FastFit(model, spec.batch_size, spec.seed, augment)
    else:
        fast.load(model, spec.seed)
        fast.model.optimizer.learning_rate.assign(spec.learning_rate)
    _compiled[key] = fast
    while len(_compiled) > CACHED_ARCHITECTURES:
        _compiled.popitem(last=False)
    return fast


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
          augment=False, early_stopping=None) -> dict:
    """Train a freshly built model on data (a datasets.Dataset) for epochs; training_part: (images, labels) to learn
    from instead of all the training part (the lab's subset or noisy labels), the validation part unchanged. l2: the
    weight decay the model was built with (each record's loss is without its penalty, loss_with_penalty with it);
    augment: transform the training images; early_stopping: patience (early_stopping.py), the result's
    "stopped_epoch" and "best_epoch" say what it did.

    on_progress(epoch, batch, batches, loss, accuracy, elapsed) is called about every REPORT_SECONDS and at each
    epoch's last batch; on_epoch_end(record, elapsed) after each epoch with its history record (epoch, loss,
    accuracy, val_loss, val_accuracy). Returns {"model" (the trained Keras model: the cached one of this
    architecture, not the one passed in), "history", "test_probabilities" (epochs, M, C) float16 or None,
    "stopped"}. Raises LossNotFinite; a stop keeps the weights of the last finished epoch.
    """
    _, (x_val, y_val) = split_validation(data.x_train, data.y_train, spec.validation_split)
    fast = compiled_for(model, spec, l2, augment)
    model = fast.model
    stopper = None if early_stopping is None else EarlyStopping(early_stopping)
    images, labels = resident(data.x_train, data.y_train, spec.validation_split) if training_part is None else \
        (tf.constant(training_part[0]), tf.constant(training_part[1].astype(np.int32)))
    history, per_epoch, kept_weights, started = [], [], None, time.monotonic()
    hidden_map = HiddenMap(epochs, len(data.x_test), model.layers[-1].input.shape[-1])
    last_report = [0.0]

    def ended(stopped: bool) -> dict:
        result = {"model": model, "history": history, "stopped": stopped, "hidden_map": hidden_map.result(),
                  "test_probabilities": np.stack(per_epoch) if per_epoch else None}
        if stopper is not None and not stopped and history:  # as Keras: the best epoch's weights are kept
            model.set_weights(stopper.best_weights)
            result.update(stopped_epoch=len(history), best_epoch=stopper.best_epoch)
        return result

    for epoch in range(1, epochs + 1):
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
