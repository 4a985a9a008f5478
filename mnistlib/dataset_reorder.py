"""Once, for user datasets stored before training_order existed: put their training images in the stratified,
shuffled order new imports get, so the validation split holds every class.

The test set is kept as it was, and so is the dataset's "created" time: every model trained before stays valid
(its stored test predictions are of the same test images). Only its validation figures were measured on the old,
class-sorted last part, so the dataset's notes name those models. The new folder replaces the old one whole
(written aside, then swapped by renames) under a lock, so two servers never reorder at once.
"""

import fcntl
import json
import os
import secrets
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from mnistlib import datasets, store, training_order, user_datasets
from mnistlib.dataset_checks import PARTS


def needs_reorder(name: str) -> bool:
    """Is this stored user dataset's training set still in the order its file gave?"""
    meta = json.loads((user_datasets.custom_dir() / name / user_datasets.META_FILE).read_text(encoding="utf-8"))
    return meta.get("train_order") != training_order.ORDER_NAME


def reorder_stored(name: str) -> str | None:
    """Reorder one stored user dataset's training images; the note added to it, or None when already done."""
    folder = user_datasets.custom_dir() / name
    with open(user_datasets.custom_dir() / ".reorder.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not needs_reorder(name):
            return None
        meta = json.loads((folder / user_datasets.META_FILE).read_text(encoding="utf-8"))
        data = datasets.load(name)  # verified against its checksums
        arrays = training_order.reorder_training({part: getattr(data, part) for part in PARTS})
        before = [model.name for model in store.entries(name)
                  if user_datasets.trained_on(name, model.created, meta.get("created", ""))]
        when = datetime.now(UTC).isoformat(timespec="seconds")
        note = (f"On {when[:10]} its training images were put in a shuffled order with every class in the "
                "validation part (they were sorted by class, so the validation split held back the last class only)."
                + (f" The validation figures of the {len(before)} model(s) trained before then come from that old "
                   f"order: {', '.join(before)}." if before else ""))
        meta.update(train_order=training_order.ORDER_NAME, reordered=when,
                    notes=[*meta.get("notes", []), note],
                    sha256={part: datasets.checksum(arrays[part]) for part in PARTS})
        temporary = Path(tempfile.mkdtemp(dir=user_datasets.custom_dir(), prefix=f".reordering-{name}-"))
        old = user_datasets.custom_dir() / f".reordered-{name}-{secrets.token_hex(4)}"
        try:
            for part in PARTS:
                datasets.save_array(temporary / f"{part}.npy", arrays[part])
            (temporary / user_datasets.META_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False),
                                                             encoding="utf-8")
            os.chmod(temporary, 0o755)
            os.rename(folder, old)
            try:
                os.rename(temporary, folder)
            except OSError:
                os.rename(old, folder)  # the dataset as it was, never half of one
                raise
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        return note


def reorder_all() -> dict:
    """Reorder every readable stored user dataset that needs it: {name: note} of those reordered now."""
    done = {}
    for name in user_datasets.readable_names():
        try:
            note = reorder_stored(name)
        except (OSError, ValueError, KeyError, datasets.DataCorruptError):
            continue  # a damaged dataset keeps its page message; it is tried again at the next start
        if note:
            done[name] = note
    return done
