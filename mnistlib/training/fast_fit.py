"""The compiled training step of one Keras model: data resident as tensors, many optimizer steps per call.

Keras's `model.fit` feeds each batch through tf.data and Python; for a 100k-parameter model that
overhead is most of the time. Here the images stay on the device as uint8, each epoch is shuffled
there, and one XLA-compiled call runs a chunk of optimizer steps in a `tf.while_loop` (FastFit). The model,
its optimizer and loss are the ordinary Keras ones, so the saved model is a plain Keras model.

Compiling those calls takes about a second, so a worker process keeps the compiled functions of the last few
architectures (`compiled_for`): a new job of the same architecture loads its freshly initialised variables
(weights, dropout seeds, optimizer state) into the cached model and trains with no compilation at all. The
result is bit-identical to training a fresh model (tested). The epoch loop around it is loop.py.
"""

import collections
import math

import keras
import numpy as np
import tensorflow as tf

from mnistlib.training import augment as augmentation

# A chunk of steps is sized to take about CHUNK_SECONDS.
CHUNK_SECONDS = 0.15
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

    def skip_epochs(self, count: int, train_size: int) -> None:
        """Draw the shuffling of count epochs over train_size images (as run_epoch does) without training, and
        move augmentation's draws on by those epochs' chunks."""
        for _ in range(count):
            self.generator.uniform([train_size])
            self.chunks_run += math.ceil((train_size // self.batch_size) / self.chunk)

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


_compiled: collections.OrderedDict = collections.OrderedDict()  # architecture -> FastFit, most recent last


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
