"""The model store: one folder per trained model with its .keras file, JSON card and test probabilities."""

import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mnistlib import config, datasets

MODEL_FILE, CARD_FILE, PROBABILITIES_FILE = "model.keras", "card.json", "test_probabilities.npy"
ID_PATTERN = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{6}")
MAX_NAME_LENGTH = 80


class ModelNotFoundError(LookupError):
    """No stored model has this id."""


class CorruptModelError(RuntimeError):
    """A stored model's files cannot be read."""


@dataclass(frozen=True)
class ModelCard:
    """What we know about a stored model without loading it."""

    id: str
    name: str
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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ModelCard":
        names = {field.name for field in fields(cls)}
        missing = sorted(names - set(values))
        if missing:
            raise ValueError(f"the card lacks {', '.join(missing)}")
        return cls(**{name: values[name] for name in names})

    def label(self) -> str:
        """A readable line for menus: name · epochs · test accuracy."""
        return f"{self.name} · {self.epochs_run} epochs · {self.test_accuracy:.1%}"


@dataclass(frozen=True)
class BrokenModel:
    """A folder in the store whose card cannot be read (listed so it can be deleted)."""

    id: str
    message: str


def validate_id(text) -> str:
    """text if it is a model id (like 20261124-201500-3fa9c2); ValueError for anything else."""
    if not isinstance(text, str) or not ID_PATTERN.fullmatch(text):
        raise ValueError(f"{str(text)[:40]!r} is not a model id (they look like 20261124-201500-3fa9c2).")
    return text


def validate_name(text) -> str:
    """A model name: 1–80 printable characters after stripping spaces."""
    name = text.strip() if isinstance(text, str) else ""
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise ValueError(f"A model name needs 1 to {MAX_NAME_LENGTH} printable characters.")
    return name


def _folder(model_id: str) -> Path:
    """The folder of an existing model, strictly inside the store."""
    folder = config.models_dir() / validate_id(model_id)
    if not folder.is_dir():
        raise ModelNotFoundError(f"No stored model has the id {model_id}.")
    return folder


def _new_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def _write_json(path: Path, values: dict) -> None:
    """Write JSON through a temporary file and rename, so a reader never sees half a card."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".card-", suffix=".json")
    with os.fdopen(handle, "w") as file:
        json.dump(values, file, indent=1)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def save(model, card_fields: dict, test_probabilities: np.ndarray) -> ModelCard:
    """Store a Keras model with its card; test_probabilities (epochs, M, 10) float16, last row = this model's."""
    root = config.models_dir()
    root.mkdir(parents=True, exist_ok=True)
    datasets.info(card_fields["dataset"])
    card = ModelCard.from_dict({**card_fields, "id": _new_id(), "name": validate_name(card_fields["name"]),
                                "created": datetime.now(UTC).isoformat(timespec="seconds")})
    temporary = Path(tempfile.mkdtemp(dir=root, prefix=".saving-"))
    try:
        model.save(temporary / MODEL_FILE)
        np.save(temporary / PROBABILITIES_FILE, np.asarray(test_probabilities, dtype=np.float16), allow_pickle=False)
        _write_json(temporary / CARD_FILE, card.to_dict())
        os.chmod(temporary, 0o755)
        os.rename(temporary, root / card.id)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return card


def load_card(model_id: str) -> ModelCard:
    """The card of a stored model; CorruptModelError naming the model if it cannot be read."""
    path = _folder(model_id) / CARD_FILE
    try:
        return ModelCard.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as error:
        raise CorruptModelError(f"Model {model_id} cannot be read: {CARD_FILE} is damaged ({error}). "
                                "Delete it and train again.") from error


def list_models(dataset: str | None = None) -> list:
    """Stored models, newest first, as ModelCard (or BrokenModel for unreadable ones); optionally one dataset."""
    root = config.models_dir()
    if not root.is_dir():
        return []
    entries = []
    for folder in sorted(root.iterdir(), reverse=True):
        if not folder.is_dir() or not ID_PATTERN.fullmatch(folder.name):
            continue
        try:
            card = load_card(folder.name)
        except (CorruptModelError, ModelNotFoundError) as error:
            entries.append(BrokenModel(folder.name, str(error)))
            continue
        if dataset is None or card.dataset == dataset:
            entries.append(card)
    return entries


def load_probabilities(model_id: str) -> np.ndarray:
    """Test-set probabilities after each epoch, (epochs, M, 10) float32, each row summing to 1."""
    path = _folder(model_id) / PROBABILITIES_FILE
    try:
        probabilities = np.load(path, allow_pickle=False).astype(np.float32)
    except (OSError, ValueError, EOFError) as error:
        raise CorruptModelError(f"Model {model_id} cannot be read: {PROBABILITIES_FILE} is damaged ({error}). "
                                "Delete it and train again.") from error
    if probabilities.ndim != 3 or probabilities.shape[2] != 10:
        raise CorruptModelError(f"Model {model_id}: {PROBABILITIES_FILE} has shape {probabilities.shape}.")
    # Stored as float16 to stay small; renormalise so every row sums to 1 again.
    return probabilities / probabilities.sum(axis=2, keepdims=True)


def load_model(model_id: str):
    """The stored Keras model (loaded with safe_mode=True: no arbitrary code from the file)."""
    import keras

    path = _folder(model_id) / MODEL_FILE
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many kinds (ValueError, OSError, zipfile errors…)
        raise CorruptModelError(f"Model {model_id} cannot be loaded: {MODEL_FILE} is damaged "
                                f"({type(error).__name__}: {str(error)[:200]}). Delete it and train again.") from error


def rename(model_id: str, new_name: str) -> ModelCard:
    """Give a stored model a new name (the card is rewritten atomically)."""
    card = load_card(model_id)
    renamed = ModelCard.from_dict({**card.to_dict(), "name": validate_name(new_name)})
    _write_json(_folder(model_id) / CARD_FILE, renamed.to_dict())
    return renamed


def delete(model_id: str) -> None:
    """Remove a stored model (renamed away first, so it disappears from listings at once)."""
    folder = _folder(model_id)
    trash = folder.with_name(f".deleting-{folder.name}-{secrets.token_hex(2)}")
    os.rename(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)
