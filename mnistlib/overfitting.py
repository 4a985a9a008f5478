"""The gap between training and validation accuracy, judged against the validation figure's sampling noise.

A validation accuracy p measured on n images has a standard error of sqrt(p(1 - p) / n): with 6,000 images and
p = 0.888 that is 0.41 percentage points. A final gap (training minus validation accuracy) larger than 2 standard
errors is beyond that noise; a smaller one could be chance in which images were held back.

    verdict = gap_verdict(history, validation_images=6000, lab_settings={"train_images": 500})
    gap_sentence(verdict)   # "After epoch 30, training accuracy is 100.0% and validation accuracy 88.8%: ..."

overfitting_verdict judges the validation loss instead: still falling, levelled off, or risen while the training loss
kept falling.

numpy-free and streamlit-free: the Train page's end of a run and Compare both call it.
"""

import dataclasses
import math

NOISE_STANDARD_ERRORS = 2  # a gap beyond this many standard errors of the validation accuracy is called real
# The overfitting lab's settings as the request and the card name them, in the order they are said.
LAB_SETTINGS = ("train_images", "label_noise", "l2", "augment", "early_stopping")


@dataclasses.dataclass(frozen=True)
class GapVerdict:
    """The last epoch's accuracies in percent (rounded to 0.1, as shown), their gap and the validation noise."""

    epoch: int
    training: float  # percent, e.g. 100.0
    validation: float  # percent
    gap: float  # training - validation, in percentage points (the difference of the shown figures)
    standard_error: float  # of the validation accuracy, in percentage points, unrounded
    validation_images: int
    settings: tuple = ()  # the lab's settings changed from their defaults, as (name, value) pairs
    label_noise: float = 0.0  # the fraction of training labels replaced (training accuracy is against those)

    @property
    def noise(self) -> float:
        """NOISE_STANDARD_ERRORS standard errors in points, from the standard error rounded to 0.01 as the sentence
        says it (so "2 × 0.41 = 0.82" adds up)."""
        return round(NOISE_STANDARD_ERRORS * round(self.standard_error, 2), 2)

    @property
    def beyond_noise(self) -> bool:
        """True when training is ahead of validation by more than the noise (on the shown figures)."""
        return self.gap > self.noise

    @property
    def kind(self) -> str:
        """"overfits" (gap beyond noise), "within noise", or "validation ahead" (validation beyond noise higher)."""
        if self.beyond_noise:
            return "overfits"
        return "validation ahead" if -self.gap > self.noise else "within noise"

    def __repr__(self) -> str:
        return (f"GapVerdict(epoch={self.epoch}, training={self.training}, validation={self.validation}, "
                f"gap={self.gap}, noise={self.noise}, n={self.validation_images}, kind={self.kind!r})")


def validation_count(training_set_size: int, validation_split: float) -> int:
    """How many images the validation split holds back: the last ones after floor(size * (1 - split)), as Keras
    (and mnistlib.training.loop.split_validation) cut."""
    return training_set_size - int(math.floor(training_set_size * (1 - validation_split)))


def standard_error(accuracy: float, images: int) -> float:
    """The sampling standard error of an accuracy (0 to 1) measured on this many images: sqrt(p(1 - p) / n)."""
    if images < 1:
        raise ValueError("The standard error needs at least one validation image.")
    return math.sqrt(accuracy * (1 - accuracy) / images)


def changed_settings(settings: dict | None) -> tuple:
    """(name, value) pairs of the lab settings that differ from their defaults (None, 0, False and 0.0 are the
    defaults), known names first in LAB_SETTINGS order, then any other name as given."""
    settings = settings or {}
    names = [name for name in LAB_SETTINGS if name in settings] + [name for name in settings if name not in LAB_SETTINGS]
    return tuple((name, settings[name]) for name in names if settings[name] not in (None, 0, False))


def card_settings(card: dict, training_part_size: int) -> dict:
    """The lab settings on a stored model's card (ModelCard.to_dict()): its train_images only when fewer than the
    training part after the validation split (a card records the count learned from even when it is all)."""
    settings = {name: card[name] for name in LAB_SETTINGS if card.get(name) not in (None, 0, False)}
    if settings.get("train_images") is not None and settings["train_images"] >= training_part_size:
        settings.pop("train_images")
    return settings


def setting_phrase(name: str, value) -> str:
    """One lab setting as words: "500 training images", "30% noisy labels", "L2 0.01", "augmentation",
    "early stopping (patience 5)"; another name as its words and value ("dropout rate 0.2", or just the words
    for True)."""
    if name == "train_images":
        return f"{value:,} training images"
    if name == "label_noise":
        return f"{round(value * 100, 4):g}% noisy labels"
    if name == "l2":
        return f"L2 {value:g}"
    if name == "augment":
        return "augmentation"
    if name == "early_stopping":
        return f"early stopping (patience {value})"
    words = str(name).replace("_", " ")
    return words if value is True else f"{words} {value}"


def gap_verdict(history: list, validation_images: int, lab_settings: dict | None = None) -> GapVerdict | None:
    """The verdict on the last epoch record (accuracy, val_accuracy, both 0 to 1) of history, or None when there
    is no epoch, no validation figure or no validation image."""
    if not history or validation_images < 1:
        return None
    last = history[-1]
    training, validation = last.get("accuracy"), last.get("val_accuracy")
    if training is None or validation is None or not (math.isfinite(training) and math.isfinite(validation)):
        return None
    shown_training, shown_validation = round(100 * training, 1), round(100 * validation, 1)
    settings = changed_settings(lab_settings)
    return GapVerdict(epoch=int(last.get("epoch", len(history))), training=shown_training,
                      validation=shown_validation, gap=round(shown_training - shown_validation, 1),
                      standard_error=100 * standard_error(validation, validation_images),
                      validation_images=int(validation_images), settings=settings,
                      label_noise=float(dict(settings).get("label_noise", 0.0)))


def settings_clause(settings: tuple) -> str:
    """ — lab settings changed from their defaults: …", or that none was."""
    if not settings:
        return " — every lab setting at its default"
    return " — lab settings changed from their defaults: " + ", ".join(setting_phrase(*pair) for pair in settings)


def gap_sentence(verdict: GapVerdict | None) -> str:
    """The verdict as one sentence with its numbers (Markdown-free, so it can be escaped or shown as it is)."""
    if verdict is None:
        return ("No validation figure, so the gap between training and validation accuracy cannot be judged: "
                "train with a validation split.")
    training = f"training accuracy is {verdict.training:.1f}%"
    if verdict.label_noise > 0:
        training += (f" (measured against its training labels, {round(verdict.label_noise * 100, 4):g}% of which "
                     "were replaced by a wrong class)")
    noise = (f"{NOISE_STANDARD_ERRORS} standard errors of the validation figure ({NOISE_STANDARD_ERRORS} × "
             f"{verdict.standard_error:.2f} = {verdict.noise:.2f} points on {verdict.validation_images:,} validation "
             "images)")
    opening = f"After epoch {verdict.epoch}, {training} and validation accuracy {verdict.validation:.1f}%"
    if verdict.kind == "overfits":
        middle = f": a gap of {verdict.gap:.1f} points, more than {noise}, so it overfits beyond noise"
    elif verdict.kind == "validation ahead":
        middle = f": validation is {-verdict.gap:.1f} points higher, more than {noise}, so the gap shows no overfitting"
    else:
        gap = f"{'−' if verdict.gap < 0 else ''}{abs(verdict.gap):.1f}"  # a minus sign, as the live chart says it
        middle = f": a gap of {gap} points, within {noise}, so the gap alone shows no overfitting beyond noise"
    return opening + middle + settings_clause(verdict.settings) + "."


def card_verdict(card: dict, training_set_size: int) -> GapVerdict | None:
    """The verdict on a stored model's card (ModelCard.to_dict()) trained on a training set of this many images
    (before the validation split): its history, its validation images, its lab settings."""
    validation_images = validation_count(training_set_size, card.get("spec", {}).get("validation_split", 0.0))
    settings = card_settings(card, training_set_size - validation_images)
    return gap_verdict(card.get("history") or [], validation_images, settings)


def loss_trend_sentence(history: list) -> str | None:
    """The validation loss's course in one sentence of facts, for a run whose accuracy gap is beyond noise while
    its validation loss has not risen (so "no sign of overfitting" would contradict the gap); None without
    validation loss on every epoch."""
    losses = [record.get("val_loss") for record in history]
    if not losses or any(value is None or not math.isfinite(value) for value in losses):
        return None
    best = min(range(len(losses)), key=losses.__getitem__)
    if best == len(losses) - 1:
        return (f"Validation loss is still falling (lowest after the last epoch, {losses[best]:.4f}): the model "
                "already does better on its training images than on new ones, yet more epochs may still help on "
                "new ones too.")
    return (f"Validation loss was lowest after epoch {best + 1} ({losses[best]:.4f}) and is {losses[-1]:.4f} after "
            f"the last epoch.")


# ## The verdict on the validation loss (the Train page's end of a run)

# A validation loss this much (relative) above its lowest counts as a rise; smaller changes are epoch-to-epoch noise.
OVERFITTING_RISE = 0.02


def overfitting_verdict(history: list) -> tuple[str, str]:
    """("overfitting" | "not yet" | "unknown", a sentence) from per-epoch records (loss, val_loss), judged on
    validation: training loss still falling while validation loss has risen beyond noise from its lowest point."""
    validation = [record.get("val_loss") for record in history]
    if not history or any(value is None for value in validation):
        return "unknown", ("No validation split, so overfitting cannot be judged here: train with a validation "
                           "split (the test set must not be used to choose settings).")
    if len(history) < 2:
        return "unknown", "One epoch makes no curve yet: train for more epochs to see whether validation keeps up."
    best = min(range(len(history)), key=validation.__getitem__)
    last = len(history) - 1
    if best == last:
        return "not yet", (f"Validation loss is still falling (lowest after the last epoch, {validation[last]:.4f}): "
                           "no sign of overfitting yet; more epochs may still help.")
    if validation[last] <= validation[best] * (1 + OVERFITTING_RISE):
        return "not yet", (f"Validation loss has levelled off: lowest after epoch {best + 1} "
                           f"({validation[best]:.4f}), {validation[last]:.4f} after the last epoch — within "
                           f"{OVERFITTING_RISE:.0%} of it, too small a change to call overfitting.")
    if history[last]["loss"] < history[best]["loss"]:
        return "overfitting", (
            f"Validation loss was lowest after epoch {best + 1} ({validation[best]:.4f}) and is higher after epoch "
            f"{last + 1} ({validation[last]:.4f}), while training loss kept falling ({history[best]['loss']:.4f} → "
            f"{history[last]['loss']:.4f}): the model has started to **overfit**. About {best + 1} epoch"
            f"{'s' if best else ''}, or dropout (or more of it), may reduce it.")
    return "not yet", (f"Validation loss was lowest after epoch {best + 1}, but training loss did not fall after it "
                       "either: training is unsteady rather than overfitting — a lower learning rate may help.")
