"""The overfitting lesson (issue 19): four trainings of the default network on 500 training images, 30 epochs, the
same seed — as they are, augmented, with L2 0.01, with 30% wrong labels — and their results side by side.

    for row in overfitting_lesson.ROWS: row.request("mnist")        # the four TrainRequests
    overfitting_lesson.results("mnist")                              # a Result per row, once its model exists
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from mnistlib import config, store
from mnistlib.models import ModelSpec
from mnistlib.training import TrainRequest

TRAIN_IMAGES, EPOCHS = 500, 30
CLEAR_GAP = 5.0  # points: the reading calls a gap of at least this memorising


@dataclass(frozen=True)
class Row:
    """One training of the lesson: its title and the lab settings it adds to the common ones."""

    title: str
    lab: dict = field(default_factory=dict)

    def request(self, dataset: str, subset: str | None = None) -> TrainRequest:
        """The lesson's request for this row: the default network (seed 0), EPOCHS epochs, TRAIN_IMAGES images."""
        return TrainRequest(dataset, ModelSpec(), EPOCHS, subset=subset or config.subset(),
                            train_images=TRAIN_IMAGES, **self.lab)


ROWS = (
    Row("500 images, as they are"),
    Row("500 images, augmented (shifts, rotations, zooms)", {"augment": True}),
    Row("500 images, L2 weight decay 0.01", {"l2": 0.01}),
    Row("500 images, 30% of the labels wrong", {"label_noise": 0.3}),
)


class Result(NamedTuple):
    """A row's stored model: its id, the last epoch's training and validation accuracy (0–1), the gap in points."""

    model_id: str
    training_accuracy: float
    validation_accuracy: float
    gap: float  # (training - validation) × 100

    def reading(self, row: Row) -> str:
        """One line on what the numbers say."""
        if self.gap >= CLEAR_GAP:
            text = (f"It memorises: {self.gap:.1f} points better on the images it learned from than on the held-out "
                    "ones.")
        elif self.gap >= 0:
            text = f"A small gap ({self.gap:.1f} points): it does about as well on held-out images."
        else:
            text = f"No overfitting: validation accuracy is {-self.gap:.1f} points above training accuracy."
        if row.lab.get("augment"):
            text += " Its training accuracy is measured on the shifted, rotated and zoomed images."
        if row.lab.get("label_noise"):
            text += (f" Its training accuracy counts agreement with the labels it was given, "
                     f"{row.lab['label_noise']:.0%} of them wrong.")
        return text


def images_available(dataset: str, subset: str | None = None) -> int | None:
    """The training images left after the default validation split (the lesson needs TRAIN_IMAGES); None if the
    dataset cannot be read."""
    from mnistlib import judging

    total = judging.training_set_size(dataset, subset or config.subset())
    return judging.images_learned_from(total, ModelSpec().validation_split)


def result(request: TrainRequest) -> Result | None:
    """The stored model of exactly this request (anyone's: the class's identical runs are reused), or None."""
    model_id = store.find_trained(request.key())
    if model_id is None:
        return None
    card = store.load_card(model_id)
    last = card.history[-1]
    return Result(model_id, last["accuracy"], last["val_accuracy"], 100 * (last["accuracy"] - last["val_accuracy"]))


def results(dataset: str, subset: str | None = None) -> list[Result | None]:
    """A Result (or None: not trained yet) for each of ROWS, on this dataset."""
    return [result(row.request(dataset, subset)) for row in ROWS]
