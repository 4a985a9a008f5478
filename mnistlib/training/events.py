"""What a training tells the server, in one small typed vocabulary: the only place these messages are built.

Events travel from wherever the training runs (a local worker process, a Dask worker on another machine) as
plain dicts of numbers and strings (`to_message`), because Dask's event channel only carries msgpack-able
values; `from_message` turns them back into these frozen dataclasses. The final result of a training is an
`Outcome`, returned by the task itself (it carries the .keras file's bytes and the test probabilities).
"""

from dataclasses import asdict, dataclass, field, fields

import numpy as np


@dataclass(frozen=True)
class Queued:
    """The job waits for a free trainer; position = jobs ahead of it."""

    job: str
    position: int = 0


@dataclass(frozen=True)
class Started:
    """A trainer took the job; where says which machine or process (e.g. "tcp://10.0.0.7:40123")."""

    job: str
    where: str = ""


@dataclass(frozen=True)
class Progress:
    """Running training loss and accuracy within an epoch, about every 0.25 s."""

    job: str
    epoch: int
    epochs: int
    batch: int
    batches: int
    loss: float
    accuracy: float
    elapsed: float


@dataclass(frozen=True)
class RateProgress:
    """One step of the learning-rate finder: the rate tried and the loss it gave (raw and smoothed)."""

    job: str
    step: int
    steps: int
    learning_rate: float
    loss: float
    smoothed_loss: float
    elapsed: float


@dataclass(frozen=True)
class EpochEnd:
    """An epoch finished: its mean training figures and the validation figures (None without a validation set)."""

    job: str
    epoch: int
    epochs: int
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    elapsed: float

    def record(self) -> dict:
        """The epoch as one row of a model's history."""
        return {"epoch": self.epoch, "loss": self.loss, "accuracy": self.accuracy,
                "val_loss": self.val_loss, "val_accuracy": self.val_accuracy}


@dataclass(frozen=True)
class Paused:
    """The training holds still on request (pausing.py), the model in its worker's memory, at epoch's step batch of
    batches (batch == batches: between epochs)."""

    job: str
    epoch: int
    batch: int
    batches: int


@dataclass(frozen=True)
class Resumed:
    """A paused training goes on (Resume, or Step: to the end of the epoch in progress, then paused again)."""

    job: str


@dataclass(frozen=True)
class Finished:
    """Trained for every epoch and stored as model_id."""

    job: str
    model_id: str
    history: list = field(default_factory=list)
    test_loss: float | None = None
    test_accuracy: float | None = None
    message: str = ""
    result: dict | None = None  # what a job that makes no model found (the learning-rate finder's curve)


@dataclass(frozen=True)
class Stopped:
    """Stopped on request; model_id holds the last finished epoch's model (None if no epoch finished)."""

    job: str
    model_id: str | None = None
    history: list = field(default_factory=list)
    test_loss: float | None = None
    test_accuracy: float | None = None
    message: str = ""
    result: dict | None = None


@dataclass(frozen=True)
class Failed:
    """The training could not finish; message says why and what to do, in a student's words."""

    job: str
    message: str


Event = Queued | Started | Progress | RateProgress | EpochEnd | Paused | Resumed | Finished | Stopped | Failed
KINDS = {kind.__name__: kind for kind in (Queued, Started, Progress, RateProgress, EpochEnd, Paused, Resumed, Finished,
                                          Stopped, Failed)}
ENDINGS = (Finished, Stopped, Failed)


def to_message(event: Event) -> dict:
    """The event as a plain dict (msgpack- and pickle-safe): {"kind": "Progress", "job": …, …}."""
    return {"kind": type(event).__name__, **asdict(event)}


def from_message(message: dict) -> Event:
    """The event a message describes; ValueError for anything that is not one of ours."""
    if not isinstance(message, dict) or message.get("kind") not in KINDS:
        raise ValueError(f"Not a training event: {str(message)[:80]}")
    kind = KINDS[message["kind"]]
    names = {item.name for item in fields(kind)}
    return kind(**{name: value for name, value in message.items() if name in names})


@dataclass
class Outcome:
    """What a finished task returns to the server, which stores the model: the ending and, when at least one
    epoch finished, the model as .keras bytes with its test probabilities (epochs, M, C) float16."""

    kind: str  # "Finished", "Stopped" or "Failed"
    message: str = ""
    history: list = field(default_factory=list)
    model: bytes | None = None
    probabilities: np.ndarray | None = None
    card: dict | None = None  # the card's training facts (name, dataset, subset, spec, epochs_run, …)
    test_loss: float | None = None
    test_accuracy: float | None = None
    hidden_map: dict | None = None  # {"epochs": [...], "points": (epochs, M, 2) float16}: the hidden-space map
    result: dict | None = None  # a job that makes no model: what it found (the learning-rate finder's curve)
    events_sent: int = 0  # events the training emitted: the server waits for them before ending the job

    def __repr__(self):
        size = f", model {len(self.model):,} bytes" if self.model else ""
        return f"Outcome({self.kind}, {len(self.history)} epochs{size})"


def failed(message: str) -> Outcome:
    return Outcome("Failed", message=message)
