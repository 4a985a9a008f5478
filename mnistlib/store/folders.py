"""The store's source of truth: one folder per model with its .keras file, JSON card, owners and probabilities.

Every write goes to a temporary file or folder first and is renamed into place, so a reader (or a server
killed half-way) never sees half a model. The SQLite index (index.py) is rebuilt from these folders.
"""

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mnistlib import atomic_file, config, names

MODEL_FILE, CARD_FILE, PROBABILITIES_FILE, OWNERS_FILE = "model.keras", "card.json", "test_probabilities.npy", \
    "owners.json"
HIDDEN_MAP_FILE = "hidden_map.npz"  # optional: models stored before it have none
ID_PATTERN = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{6}")
MAX_NAME_LENGTH = 80


class ModelNotFoundError(LookupError):
    """No stored model has this id."""


class CorruptModelError(RuntimeError):
    """A stored model's files cannot be read."""


@dataclass(frozen=True)
class ModelCard:
    """What we know about a stored model without loading it (the facts of its training; never changes)."""

    id: str
    name: str  # the name its first owner gave it; each owner may rename it for themselves (owners.json)
    dataset: str
    subset: str
    spec: dict
    epochs_run: int
    history: list  # one dict per epoch: epoch, loss, accuracy, val_loss, val_accuracy
    test_loss: float
    test_accuracy: float
    training_seconds: float
    created: str  # ISO 8601, UTC
    test_size: int
    # Added with students and shared trainings; cards stored before them get these defaults.
    trained_by: str = ""  # the display name of the student who asked first ("" if unknown)
    request_key: str = ""  # equal keys = the same training request (same data, settings, seed and epochs)
    epochs_requested: int = 0  # 0 if unknown; more than epochs_run when the training was stopped early
    parameters: int = 0  # learned numbers (weights and biases); 0 if unknown
    # The overfitting lab (training/lab_data.py), only on cards of models trained with it: the training images it
    # learned from (after the validation split), the fraction of their labels replaced and how many that was.
    train_images: int | None = None
    label_noise: float = 0.0
    labels_changed: int = 0
    # The lab's training settings, only when set (issue 19): l2, augment, early_stopping, and with early stopping
    # stopped_epoch (the last epoch run) and best_epoch (whose weights were kept).
    lab: dict | None = None
    parent: str | None = None  # a continuation (One more epoch, +N epochs): the id of the model it continued

    def to_dict(self) -> dict:
        values = asdict(self)
        if self.parent is None:  # only continuations name a parent: every other card stays as it always was
            values.pop("parent")
        if self.train_images is None:  # a model trained without the lab: its card stays as it always was
            for name in ("train_images", "label_noise", "labels_changed"):
                values.pop(name)
        if not self.lab:
            values.pop("lab")
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "ModelCard":
        required = {field.name for field in fields(cls) if field.default is MISSING}
        missing = sorted(required - set(values))
        if missing:
            raise ValueError(f"the card lacks {', '.join(missing)}")
        known = {field.name for field in fields(cls)}
        return cls(**{name: values[name] for name in known if name in values})

    @property
    def val_accuracy(self) -> float | None:
        """Validation accuracy after the last epoch, or None without a validation split."""
        return self.history[-1].get("val_accuracy") if self.history else None

    @property
    def stopped_early(self) -> bool:
        return bool(self.epochs_requested) and self.epochs_run < self.epochs_requested

    def label(self) -> str:
        """A readable line for menus: name · epochs · validation (or test) accuracy."""
        return label(self.name, self.epochs_run, self.val_accuracy, self.test_accuracy)


def label(name: str, epochs: int, val_accuracy: float | None, test_accuracy: float) -> str:
    """A model's line in menus: "name · 5 epochs · validation 97.5%" (test accuracy without a validation split)."""
    accuracy = f"validation {val_accuracy:.1%}" if val_accuracy is not None else f"test {test_accuracy:.1%}"
    return f"{name} · {epochs} epoch{'' if epochs == 1 else 's'} · {accuracy}"


@dataclass(frozen=True)
class BrokenModel:
    """A folder in the store whose card cannot be read (listed so it can be deleted)."""

    id: str
    message: str


@dataclass(frozen=True)
class Owner:
    """A student who has a stored model in their list, and the name they gave it."""

    key: str  # names.key() of the student's name: who they are
    display: str  # their name as they typed it
    name: str  # the model's name in their list
    added: str  # ISO 8601, UTC


def validate_id(text) -> str:
    """text if it is a model id (like 20261124-201500-3fa9c2); ValueError for anything else."""
    if not isinstance(text, str) or not ID_PATTERN.fullmatch(text):
        raise ValueError(f"{str(text)[:40]!r} is not a model id (they look like 20261124-201500-3fa9c2).")
    return text


def validate_name(text) -> str:
    """A model name cleaned to 1–80 visible characters; ValueError saying what is wrong otherwise."""
    return names.clean(text, MAX_NAME_LENGTH, "A model name")


def root() -> Path:
    return config.models_dir()


def folder(model_id: str) -> Path:
    """The folder of an existing model, strictly inside the store."""
    path = root() / validate_id(model_id)
    if not path.is_dir():
        raise ModelNotFoundError(f"No stored model has the id {model_id}.")
    return path


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def write_json(path: Path, values) -> None:
    """Write JSON so that a reader never sees half a file."""
    with atomic_file.replacing(path, "w") as file:
        json.dump(values, file, indent=1)


@contextlib.contextmanager
def locked(model_id: str):
    """Hold the model's lock (an flock, across threads and processes) while its owners are changed."""
    path = folder(model_id) / ".lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save(model, card_fields: dict, test_probabilities: np.ndarray, owners: list[Owner],
         hidden_map: dict | None = None) -> ModelCard:
    """Store a model (a Keras model, or the bytes of a .keras file) with its card, owners and test probabilities
    (epochs, M, C) float16, the last row being this model's; hidden_map {"epochs", "points" (E, M, 2)} optional."""
    from mnistlib import datasets

    store_root = root()
    store_root.mkdir(parents=True, exist_ok=True)
    datasets.info(card_fields["dataset"])
    card = ModelCard.from_dict({**card_fields, "id": new_id(), "name": validate_name(card_fields["name"]),
                                "created": now()})
    temporary = Path(tempfile.mkdtemp(dir=store_root, prefix=".saving-"))
    try:
        if isinstance(model, (bytes, bytearray)):
            (temporary / MODEL_FILE).write_bytes(model)
        else:
            model.save(temporary / MODEL_FILE)
        np.save(temporary / PROBABILITIES_FILE, np.asarray(test_probabilities, dtype=np.float16), allow_pickle=False)
        if hidden_map is not None:
            np.savez(temporary / HIDDEN_MAP_FILE, epochs=np.asarray(hidden_map["epochs"], np.int32),
                     points=np.asarray(hidden_map["points"], np.float16))
        write_json(temporary / CARD_FILE, card.to_dict())
        write_json(temporary / OWNERS_FILE, [asdict(owner) for owner in owners])
        os.chmod(temporary, 0o755)
        os.rename(temporary, store_root / card.id)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return card


def read_card(model_id: str) -> ModelCard:
    """The card of a stored model; CorruptModelError naming the model if it cannot be read."""
    path = folder(model_id) / CARD_FILE
    try:
        card = ModelCard.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as error:
        raise CorruptModelError(f"Model {model_id} cannot be read: {CARD_FILE} is damaged ({error}). "
                                "Delete it and train again.") from error
    if card.id != model_id:
        raise CorruptModelError(f"Model {model_id} cannot be read: its card names another model ({card.id}).")
    return card


def read_owners(model_id: str) -> list[Owner]:
    """Who has this model in their list; [] for a model stored before students (the teacher manages it)."""
    path = folder(model_id) / OWNERS_FILE
    try:
        values = json.loads(path.read_text())
        return [Owner(**value) for value in values]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError) as error:
        raise CorruptModelError(f"Model {model_id}: {OWNERS_FILE} is damaged ({error}).") from error


def write_owners(model_id: str, owners: list[Owner]) -> None:
    write_json(folder(model_id) / OWNERS_FILE, [asdict(owner) for owner in owners])


ABANDONED_SAVE_SECONDS = 3600  # a save takes seconds: a `.saving-` folder this old was left by a process that died


def remove_abandoned_saves(older_than: float = ABANDONED_SAVE_SECONDS) -> list[str]:
    """Delete the temporary folders of saves a killed process left half-written; the names of those deleted."""
    removed = []
    try:
        with os.scandir(root()) as entries:
            for entry in entries:
                if entry.name.startswith(".saving-") and entry.is_dir(follow_symlinks=False) \
                        and time.time() - entry.stat(follow_symlinks=False).st_mtime > older_than:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed.append(entry.name)
    except FileNotFoundError:
        pass
    return removed


def model_ids() -> list[str]:
    """Ids of the model folders in the store (unsorted; temporary and deleted folders left out)."""
    try:
        with os.scandir(root()) as entries:
            return [entry.name for entry in entries if ID_PATTERN.fullmatch(entry.name) and entry.is_dir()]
    except FileNotFoundError:
        return []


def load_probabilities(model_id: str) -> np.ndarray:
    """Test-set probabilities after each epoch, (epochs, M, C) float32, each row summing to 1."""
    path = folder(model_id) / PROBABILITIES_FILE
    try:
        probabilities = np.load(path, allow_pickle=False).astype(np.float32)
    except (OSError, ValueError, EOFError) as error:
        raise CorruptModelError(f"Model {model_id} cannot be read: {PROBABILITIES_FILE} is damaged ({error}). "
                                "Delete it and train again.") from error
    if probabilities.ndim != 3 or not 2 <= probabilities.shape[2] <= 20:
        raise CorruptModelError(f"Model {model_id}: {PROBABILITIES_FILE} has shape {probabilities.shape}.")
    # Stored as float16 to stay small; renormalise so every row sums to 1 again.
    return probabilities / probabilities.sum(axis=2, keepdims=True)


def load_hidden_map(model_id: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(epochs (E,) int32, points (E, M, 2) float32): the test set in the hidden space after those epochs, on the
    last epoch's principal axes; None for a model stored without it (or with a damaged one)."""
    try:
        with np.load(folder(model_id) / HIDDEN_MAP_FILE, allow_pickle=False) as saved:
            epochs, points = saved["epochs"], saved["points"].astype(np.float32)
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if points.ndim != 3 or points.shape[0] != len(epochs) or points.shape[2] != 2:
        return None
    return epochs, points


def model_bytes(model_id: str) -> bytes:
    """The stored .keras file's bytes (for downloads)."""
    return (folder(model_id) / MODEL_FILE).read_bytes()


def load_model(model_id: str):
    """The stored Keras model (loaded with safe_mode=True: no arbitrary code from the file)."""
    import keras

    path = folder(model_id) / MODEL_FILE
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many kinds (ValueError, OSError, zipfile errors…)
        raise CorruptModelError(f"Model {model_id} cannot be loaded: {MODEL_FILE} is damaged "
                                f"({type(error).__name__}: {str(error)[:200]}). Delete it and train again.") from error


def remove(model_id: str) -> None:
    """Remove a stored model's folder (renamed away first, so it disappears from listings at once)."""
    path = folder(model_id)
    trash = path.with_name(f".deleting-{path.name}-{secrets.token_hex(2)}")
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)
