"""The user's own datasets: stored in config.data_dir()/custom/NAME/ (the four .npy files and META_FILE),
verified like MNIST's, removed by whoever added them (while no model uses them) or by the teacher, and sent with a
task to machines that cannot read this disk (to_arrays on the server, from_arrays on a Dask worker).

datasets.py is the registry everyone imports; it asks this module (registered in dataset_registry.py when mnistlib
is imported) about every name that is not built in.
"""

import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mnistlib import config, dataset_checks, dataset_registry, datasets, names, store, training_order
from mnistlib.dataset_checks import NAME_PATTERN, PARTS

META_FILE = "dataset.json"
SUBJECT = "your own images"
_sent: dict = {}  # name -> (DatasetInfo, Dataset) sent with a task to this process (from_arrays): no disk needed


def custom_dir() -> Path:
    """Folder holding one sub-folder per user dataset."""
    return config.data_dir() / "custom"


def custom_names() -> list[str]:
    """Names of the stored user datasets, sorted, readable or not (a damaged one can still be removed)."""
    if not custom_dir().is_dir():
        return []
    return sorted(folder.name for folder in custom_dir().iterdir()
                  if NAME_PATTERN.fullmatch(folder.name) and folder.is_dir())


def readable_names() -> list[str]:
    """The stored user datasets whose description can be read, sorted."""
    readable = []
    for name in custom_names():
        try:
            entry(name)
        except datasets.DataCorruptError:
            continue
        readable.append(name)
    return readable


def entry(name: str):
    """The DatasetInfo of a user dataset (one sent to this process first), None when there is no such dataset;
    DataCorruptError naming the file when its description cannot be read."""
    if not isinstance(name, str):
        return None
    if name in _sent:
        return _sent[name][0]
    if NAME_PATTERN.fullmatch(name) and (custom_dir() / name / META_FILE).is_file():
        return _read_meta(name)
    return None


def check_new_name(name) -> str:
    """name if a new user dataset may take it; ValueError with one sentence saying why not otherwise."""
    return dataset_checks.check_new_name(name, builtin=datasets.REGISTRY, existing=custom_names())


def add(name: str, arrays: dict, class_names, title: str | None = None, source: str = "", notes=(),
        added_by=None):
    """Store a user dataset (checked, with its checksums) and return its DatasetInfo; ValueError for bad input.

    arrays: x_train (N, 28, 28) uint8 0–255 (stored in training_order.stratified_order), y_train (N,) integers 0..classes-1, x_test, y_test the same;
    added_by: the store.Actor adding it (None: the command line), who may remove it later.
    """
    name = check_new_name(name)
    class_names = dataset_checks.check_class_names(class_names)
    arrays = dataset_checks.check_arrays(arrays, len(class_names))
    dataset_checks.check_class_sizes(class_names, arrays["y_train"], arrays["y_test"])
    # Stored shuffled and stratified: the validation split holds back the training set's last part.
    arrays = training_order.reorder_training(arrays)
    meta = {"format": 1, "train_order": training_order.ORDER_NAME, "name": name, "title": names.clean(title or name, 60, "A dataset title"),
            "class_names": list(class_names), "sha256": {part: datasets.checksum(arrays[part]) for part in PARTS},
            "source": str(source), "created": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "notes": [str(note) for note in notes],
            "added_by": {"key": added_by.key, "display": added_by.display} if added_by is not None else None}
    custom_dir().mkdir(parents=True, exist_ok=True)
    # Written in a hidden folder and renamed into place: a dataset is there whole or not at all.
    temporary = Path(tempfile.mkdtemp(dir=custom_dir(), prefix=f".adding-{name}-"))
    try:
        for part in PARTS:
            datasets.save_array(temporary / f"{part}.npy", arrays[part])
        (temporary / META_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        os.chmod(temporary, 0o755)
        try:
            os.rename(temporary, custom_dir() / name)
        except OSError as error:  # another dataset of this name arrived meanwhile: a non-empty folder stays
            raise ValueError(f"A dataset named {name!r} already exists; choose another name.") from error
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return datasets.info(name)


def remove(name: str) -> None:
    """Delete a user dataset (its models stay in the store); ValueError for a built-in or unknown name."""
    for builtin in datasets.REGISTRY:
        if isinstance(name, str) and dataset_checks.name_key(name) == dataset_checks.name_key(builtin):
            raise ValueError(f"{builtin} is built in and cannot be removed; only your own datasets can.")
    if name not in custom_names():
        raise ValueError(f"There is no dataset of your own named {name!r}; "
                         "python -m mnistlib dataset list shows them.")
    # Renamed away first, so no reader ever sees half a dataset.
    doomed = custom_dir() / f".removing-{name}-{secrets.token_hex(4)}"
    os.rename(custom_dir() / name, doomed)
    shutil.rmtree(doomed)


def _read_meta(name: str):
    """The entry of a stored user dataset from its JSON; DataCorruptError naming the file when it cannot be used."""
    path = custom_dir() / name / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        class_names = dataset_checks.check_class_names(meta["class_names"])
        sha256 = {part: str(meta["sha256"][part]) for part in PARTS}
        added_by = meta.get("added_by") or {}
        return datasets.DatasetInfo(
            name=name, title=str(meta["title"]), subject=SUBJECT, class_names=class_names, sha256=sha256,
            small_sha256=sha256, custom=True, source=str(meta.get("source", "")), created=str(meta.get("created", "")),
            notes=tuple(map(str, meta.get("notes", ()))), added_by=str(added_by.get("display", "")),
            added_by_key=str(added_by.get("key", "")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise datasets.DataCorruptError(f"{path} cannot be read ({error}). {datasets.repair_hint(name)}") from error


## Rights: who may remove a dataset


def models_using(name: str) -> int:
    """How many stored models were trained on this user dataset (not on an earlier one of the same name)."""
    added = datasets.info(name).created
    return sum(1 for model in store.entries(name) if trained_on(name, model.created, added))


def trained_on(name: str, model_created: str, dataset_created: str | None = None) -> bool:
    """Was a model made at model_created (ISO 8601) trained on the dataset stored now under name? False when the
    dataset is gone, or when it was added after the model (a dataset removed and added again under the same name)."""
    if dataset_created is None:
        try:
            dataset_created = datasets.info(name).created
        except (ValueError, datasets.DataCorruptError):
            return False
    if not dataset_created:  # built in, or stored before datasets recorded when they were added
        return True
    try:
        return datetime.fromisoformat(model_created) >= datetime.fromisoformat(dataset_created)
    except (TypeError, ValueError):
        return True


def remove_as(name: str, actor) -> str:
    """Remove a user dataset for actor (a store.Actor, checked on the server): the teacher removes any; a student
    only one they added, while no stored model uses it. Returns a sentence; store.PermissionDenied otherwise."""
    if actor is None:
        raise store.PermissionDenied("Type your name in the sidebar first. Nothing was removed.")
    if not actor.teacher:
        try:
            owner = datasets.info(name).added_by_key
        except datasets.DataCorruptError:
            owner = ""
        if owner != actor.key:
            raise store.PermissionDenied("Only whoever added this dataset, or the teacher, can remove it. "
                                         "Nothing was removed.")
        used = models_using(name)
        if used:
            raise store.PermissionDenied(
                f"{used} stored model{' was' if used == 1 else 's were'} trained on this dataset, so only the "
                "teacher can remove it now. Nothing was removed.")
    remove(name)
    return f"Removed the dataset {name}; models trained on it stay in the store."


## Sending a dataset with a task (a Dask worker has no access to this disk)


def arrays_checksum(sha256: dict) -> str:
    """One SHA-256 over the four arrays' SHA-256s (part -> hex digest, taken in PARTS order): equal for equal data."""
    return hashlib.sha256("".join(sha256[part] for part in PARTS).encode()).hexdigest()


def to_arrays(name: str, subset: str | None = None) -> dict:
    """A dataset as plain values to send with a task: the four arrays (x (N, 28, 28) uint8 0–255, y (N,) uint8),
    class_names, title and checksum (of the arrays, checked by from_arrays at the other end)."""
    data = datasets.load(name, subset=subset)
    arrays = {part: getattr(data, part) for part in PARTS}
    sha256 = {part: datasets.checksum(arrays[part]) for part in PARTS}
    return {**arrays, "class_names": list(data.class_names), "title": data.title, "checksum": arrays_checksum(sha256)}


def from_arrays(name: str, subset: str, arrays: dict):
    """The Dataset sent by to_arrays (checksum verified), registered in this process so that datasets.info(name)
    and datasets.load(name) know it; DataCorruptError when it arrived damaged."""
    if subset not in config.SUBSETS:
        raise ValueError(f"Unknown subset {subset!r}: choose one of {', '.join(config.SUBSETS)}.")
    try:
        parts = {part: np.asarray(arrays[part]) for part in PARTS}
        class_names = dataset_checks.check_class_names(list(arrays["class_names"]))
        expected = str(arrays["checksum"])
        title = str(arrays["title"])
    except (KeyError, TypeError, ValueError) as error:
        raise datasets.DataCorruptError(f"The dataset {name!r} sent with this task is incomplete ({error}).") from error
    sha256 = {part: datasets.checksum(parts[part]) for part in PARTS}
    if arrays_checksum(sha256) != expected:
        raise datasets.DataCorruptError(f"The dataset {name!r} sent with this task arrived damaged (checksum "
                                        "mismatch); train again.")
    try:
        parts = dataset_checks.check_arrays(parts, len(class_names))
    except ValueError as error:
        raise datasets.DataCorruptError(f"The dataset {name!r} sent with this task cannot be used: {error}") from error
    for array in parts.values():
        array.flags.writeable = False
    info = datasets.DatasetInfo(name=name, title=title, subject=SUBJECT, class_names=class_names, sha256=sha256,
                                small_sha256=sha256, custom=True)
    data = datasets.Dataset(name=name, title=title, class_names=class_names, subset=subset, **parts)
    _sent[name] = (info, data)
    return data


def sent(name: str, subset: str):
    """The dataset sent to this process under name (from_arrays), as subset; None when none was."""
    if name not in _sent:
        return None
    data = _sent[name][1]
    return datasets.Dataset(name=data.name, title=data.title, class_names=data.class_names, subset=subset,
                            **{part: getattr(data, part) for part in PARTS})


dataset_registry.register(sys.modules[__name__])
