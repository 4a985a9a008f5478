"""The learning-rate finder (fastai's lr_find, after Leslie Smith's range test): a short training run whose
learning rate rises exponentially each step, recording the loss; the useful rates are where it falls fastest.

Like fastai: one batch per step, the loss smoothed by an exponential moving average (beta 0.98, bias
corrected), a stop once the smoothed loss exceeds 4× its minimum, and suggestions computed on the smoothed
curve without its first tenth and last 5 points. The model's weights and optimizer state are restored after.
"""

import math
from dataclasses import dataclass

import numpy as np

SMOOTHING = 0.98  # fastai's AvgSmoothLoss beta
EXPLODES_AT = 4.0  # stop when the smoothed loss is this many times its lowest value (fastai's stop_div)
SKIP_END = 5  # points left out at the end for the suggestions (fastai's lr_find)
# This app's range: 100 batches (fastai's default count), rates from 1e-6 to 1 (fastai's defaults are 1e-7 to 10).
START_RATE, END_RATE, STEPS = 1e-6, 1.0, 100


@dataclass(frozen=True)
class Curve:
    """The finder's record: learning rates (n,) rising, raw and smoothed losses (n,) float64, and why it ended."""

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed_losses: np.ndarray
    ended: str  # "finished" (all steps), "exploded" (smoothed loss > 4× its minimum), "not finite", "stopped"

    def to_dict(self) -> dict:
        """Plain lists, for events that cross a process boundary."""
        return {"learning_rates": self.learning_rates.tolist(), "losses": self.losses.tolist(),
                "smoothed_losses": self.smoothed_losses.tolist(), "ended": self.ended}

    @classmethod
    def from_dict(cls, values: dict) -> "Curve":
        return cls(*(np.asarray(values[key], np.float64) for key in ("learning_rates", "losses", "smoothed_losses")),
                   values["ended"])

    def __repr__(self):
        return f"Curve({len(self.learning_rates)} steps, ended={self.ended!r})"


def learning_rates(start: float, end: float, steps: int) -> np.ndarray:
    """steps rates rising exponentially (evenly on a log axis) from start to end; (steps,) float64."""
    if not (0 < start < end and math.isfinite(end)):
        raise ValueError("The learning rates must rise: 0 < start < end.")
    if not isinstance(steps, int) or not 6 <= steps <= 10_000:
        raise ValueError("The finder needs from 6 to 10,000 steps.")
    return start * (end / start) ** (np.arange(steps) / (steps - 1))


def smooth(losses, beta: float = SMOOTHING) -> np.ndarray:
    """Exponential moving average with bias correction (fastai's smooth_loss): (n,) -> (n,) float64."""
    average, smoothed = 0.0, []
    for count, loss in enumerate(np.asarray(losses, np.float64), start=1):
        average = beta * average + (1 - beta) * loss
        smoothed.append(average / (1 - beta**count))
    return np.asarray(smoothed)


def find_learning_rate(model, images, labels, batch_size: int, report, should_stop, start: float = START_RATE,
                       end: float = END_RATE, steps: int = STEPS, seed: int = 0) -> Curve:
    """Train model (compiled, as models.build returns it) one batch per step on images (N, 28, 28) uint8 and
    labels (N,) int, the learning rate rising from start to end; report(step, steps, learning_rate, loss,
    smoothed_loss) after each step.

    Batches are drawn in a shuffled order, starting a new pass when the images run out. Stops early when the
    loss explodes or is not finite, or when should_stop() returns True; the model is restored at the end.
    """
    import keras
    import tensorflow as tf

    rates = learning_rates(start, end, steps)
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels) or len(images) < batch_size or batch_size < 1:
        raise ValueError(f"The finder needs at least one batch ({batch_size}) of images with one label each.")
    optimizer, loss_function = model.optimizer, keras.losses.get(model.loss)
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    saved_weights = model.get_weights()
    saved_optimizer = [variable.numpy() for variable in optimizer.variables]
    # XLA speeds up small Dense models but not convolutions on CPU (see fastfit).
    jit = not any(type(layer).__name__ == "Conv2D" for layer in model.layers)

    @tf.function(jit_compile=jit)
    def train_step(batch_images, batch_labels):
        with tf.GradientTape() as tape:
            probabilities = model(tf.cast(batch_images, tf.float32) / 255.0, training=True)
            loss = tf.reduce_mean(loss_function(batch_labels, probabilities))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    generator, order, position = np.random.default_rng(seed), np.zeros(0, np.int64), 0
    losses, smoothed, average, best, ended = [], [], 0.0, math.inf, "finished"
    try:
        for step, rate in enumerate(rates, start=1):
            if should_stop():
                ended = "stopped"
                break
            if position + batch_size > len(order):
                order, position = generator.permutation(len(images)), 0
            chosen = order[position : position + batch_size]
            position += batch_size
            optimizer.learning_rate = rate
            loss = float(train_step(tf.constant(images[chosen]), tf.constant(labels[chosen].astype(np.int32))))
            if not math.isfinite(loss):
                ended = "not finite"
                break
            average = SMOOTHING * average + (1 - SMOOTHING) * loss
            losses.append(loss)
            smoothed.append(average / (1 - SMOOTHING**step))
            best = min(best, smoothed[-1])
            report(step, steps, float(rate), float(loss), float(smoothed[-1]))
            if smoothed[-1] > EXPLODES_AT * best:
                ended = "exploded"
                break
    finally:
        model.set_weights(saved_weights)
        for variable, value in zip(optimizer.variables, saved_optimizer, strict=True):
            variable.assign(value)
    return Curve(rates[: len(losses)], np.asarray(losses), np.asarray(smoothed), ended)


## Suggestions


@dataclass(frozen=True)
class Suggestion:
    """Suggested learning rates: valley (fastai's default since 2.5) and steepest descent, each with its loss."""

    valley: float
    valley_loss: float
    steepest: float
    steepest_loss: float

    @property
    def learning_rate(self) -> float:
        """The one to use: the valley (more robust than the steepest point on noisy curves, per fastai)."""
        return self.valley


def suggest(rates, losses) -> Suggestion:
    """Suggestions from a finder curve, rates (n,) rising and (smoothed) losses (n,), as fastai's lr_find:
    the first tenth and last 5 points are left out, then "steepest" is where the loss falls fastest per
    step on a log axis and "valley" lies in the longest stretch where the loss keeps falling."""
    rates, losses = np.asarray(rates, np.float64), np.asarray(losses, np.float64)
    if rates.shape != losses.shape or rates.ndim != 1 or np.any(np.diff(rates) <= 0):
        raise ValueError("Expected rising learning rates and one loss for each.")
    kept = slice(len(rates) // 10, max(len(rates) - SKIP_END, 0))
    rates, losses = rates[kept], losses[kept]
    if len(rates) < 3:
        raise ValueError("The loss exploded too soon to suggest a learning rate: run the finder again with a "
                         "lower highest rate or more steps.")
    slopes = np.diff(losses) / np.diff(np.log(rates))
    steepest = int(np.argmin(slopes))
    valley = _valley_index(losses)
    return Suggestion(float(rates[valley]), float(losses[valley]), float(rates[steepest]), float(losses[steepest]))


def _valley_index(losses: np.ndarray) -> int:
    """fastai's valley: the longest (not necessarily contiguous) falling run of losses; the point about halfway
    along it (start + ⌊length/3⌋ + ⌊length/6⌋)."""
    count = len(losses)
    longest = np.ones(count, np.int64)  # longest falling run ending at each point
    for index in range(1, count):
        earlier = np.flatnonzero(losses[:index] > losses[index])
        if len(earlier):
            longest[index] = longest[earlier].max() + 1
    end = int(np.argmax(longest))  # the first point where the longest run ends
    start = end - int(longest[end])
    sections = (end - start) / 3
    return max(0, start + int(sections) + int(sections / 2))


def nearest_choice(rate: float, choices) -> float:
    """The choice closest to rate on a log axis (the factor between them is smallest); choices all > 0."""
    choices = np.asarray(choices, np.float64)
    if not (rate > 0 and len(choices) and (choices > 0).all()):
        raise ValueError("A learning rate and the choices must be positive numbers.")
    return float(choices[np.argmin(np.abs(np.log(choices / rate)))])
