"""What to train: a TrainRequest, and its key — equal keys mean the same training, hence the same model."""

import dataclasses
import hashlib
import json

from mnistlib import config, datasets
from mnistlib.models import ModelSpec
from mnistlib.training import lab_data

MAX_EPOCHS = 200
KINDS = ("train", "find_learning_rate")  # train a model; or run the learning-rate finder (no model is kept)


@dataclasses.dataclass(frozen=True)
class TrainRequest:
    """What to train: a dataset, a model spec and a number of epochs (name: the model's name in the store)."""

    dataset: str
    spec: ModelSpec
    epochs: int
    subset: str | None = None  # None: config.subset() of the process that submits
    name: str | None = None
    kind: str = "train"  # or "find_learning_rate": a short run with a rising learning rate (epochs unused)
    # The overfitting lab (lab_data.py): learn from this many training images (None: all), with this fraction of
    # their labels replaced by a wrong class. The validation images stay the same held-out ones either way.
    train_images: int | None = None
    label_noise: float = 0.0
    # More of the lab: L2 weight decay on every kernel, random shifts/rotations/zooms of the training images
    # (augment.py), and early stopping after this many epochs without a lower validation loss (early_stopping.py).
    l2: float = 0.0
    augment: bool = False
    early_stopping: int | None = None

    def __post_init__(self):
        lab_data.check_train_images(self.train_images, len(datasets.info(self.dataset).class_names))
        lab_data.check_label_noise(self.label_noise)
        if self.train_images is not None:
            object.__setattr__(self, "train_images", int(self.train_images))
        object.__setattr__(self, "label_noise", float(self.label_noise))
        if not isinstance(self.spec, ModelSpec):
            raise ValueError("The model settings must be a ModelSpec.")
        self._check_regularisation()
        if not isinstance(self.epochs, int) or isinstance(self.epochs, bool) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"Epochs must be a whole number from 1 to {MAX_EPOCHS}.")
        if self.train_images is not None and self.train_images < self.spec.batch_size:
            raise ValueError(f"Training images ({self.train_images}) must be at least one batch "
                             f"({self.spec.batch_size}).")
        if self.kind not in KINDS:
            raise ValueError(f"A training request's kind must be one of {', '.join(KINDS)}.")
        if self.subset not in (None, *config.SUBSETS):
            raise ValueError(f"Subset must be one of {', '.join(config.SUBSETS)}.")
        if self.subset is None:  # resolved now, in the submitting process, so the key says which data
            object.__setattr__(self, "subset", config.subset())

    def _check_regularisation(self) -> None:
        """Check (and normalise) l2, augment and early_stopping; ValueError with one sentence."""
        lab_data.check_l2(self.l2)
        lab_data.check_augment(self.augment)
        lab_data.check_early_stopping(self.early_stopping)
        object.__setattr__(self, "l2", float(self.l2))
        object.__setattr__(self, "augment", bool(self.augment))
        if self.early_stopping is not None:
            object.__setattr__(self, "early_stopping", int(self.early_stopping))
            if self.spec.validation_split == 0:
                raise ValueError("Early stopping watches the validation loss: it needs a validation split above 0.")

    def to_dict(self) -> dict:
        values = {"dataset": self.dataset, "spec": self.spec.to_dict(), "epochs": self.epochs,
                  "subset": self.subset, "name": self.name, "kind": self.kind}
        values.update(self.lab_settings())
        return values

    def lab_settings(self) -> dict:
        """The overfitting lab's settings that differ from their defaults ({} for an ordinary training)."""
        settings = {}
        if self.train_images is not None:
            settings["train_images"] = self.train_images
        if self.label_noise != 0:
            settings["label_noise"] = self.label_noise
        if self.l2 != 0:
            settings["l2"] = self.l2
        if self.augment:
            settings["augment"] = True
        if self.early_stopping is not None:
            settings["early_stopping"] = self.early_stopping
        return settings

    @classmethod
    def from_dict(cls, values: dict) -> "TrainRequest":
        return cls(dataset=values["dataset"], spec=ModelSpec.from_dict(values["spec"]), epochs=values["epochs"],
                   subset=values.get("subset"), name=values.get("name"), kind=values.get("kind", "train"),
                   train_images=values.get("train_images"), label_noise=values.get("label_noise", 0.0),
                   l2=values.get("l2", 0.0), augment=values.get("augment", False),
                   early_stopping=values.get("early_stopping"))

    def key(self) -> str:
        """Equal for requests that train the same model: same data (and its checksums), settings, seed and
        epochs. Measured here: the same request trains a bit-identical model, so it is trained once."""
        checksums = datasets.info(self.dataset).sha256 if self.subset == "full" else \
            datasets.info(self.dataset).small_sha256
        identity = {"version": 1, "dataset": self.dataset, "subset": self.subset, "data": checksums,
                    "spec": self.spec.to_dict(), "epochs": self.epochs}
        if self.kind != "train":
            identity["kind"] = self.kind
        # Only when set, so a request without them keeps the key (and the stored model) it always had.
        identity.update(self.lab_settings())
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]
