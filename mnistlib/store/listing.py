"""What the index lists: models (as ModelEntry rows, never reading card files), damaged ones, a model's owners,
and a change counter to watch — all fast, from the SQLite index (index.py)."""

import json
from typing import NamedTuple

from mnistlib.store import folders
from mnistlib.store.index import _meta, run

ENTRY_COLUMNS = ("id", "name", "dataset", "subset", "trained_by", "created", "architecture", "settings", "epochs_run",
                 "epochs_requested", "parameters", "training_seconds", "val_accuracy", "test_accuracy")


class ModelEntry(NamedTuple):
    """One stored model as the index lists it (no history): what pickers and the class board show."""

    id: str
    name: str  # as the viewer named it if it is theirs, else as its first owner named it
    dataset: str
    subset: str
    trained_by: str
    created: str
    architecture: str
    settings: str  # ModelSpec.describe()
    epochs_run: int
    epochs_requested: int
    parameters: int
    training_seconds: float
    val_accuracy: float | None
    test_accuracy: float
    owners: int  # how many students have it in their list
    mine: bool  # the viewer has it in their list

    def label(self) -> str:
        """A readable line for menus: name · epochs · validation (or test) accuracy."""
        return folders.label(self.name, self.epochs_run, self.val_accuracy, self.test_accuracy)


def entries(dataset: str | None = None, viewer: str = "", scope: str = "class") -> list[ModelEntry]:
    """Stored models, the viewer's own first, then newest first; scope "class" (all), "mine" (the viewer's)
    or "owner:KEY" (one student's, e.g. the teacher's). Two queries that need no sorting (indexes on the
    owner and on the creation time), so 10,000 models list in milliseconds."""
    if scope != "class" and scope != "mine" and not scope.startswith("owner:"):
        raise ValueError(f"Unknown scope {scope!r}.")
    columns = ", ".join(f"m.{column}" for column in ENTRY_COLUMNS[2:])
    in_dataset = "AND m.dataset = ?" if dataset is not None else ""
    chosen = (dataset,) if dataset is not None else ()
    owner = viewer if scope in ("class", "mine") else scope.removeprefix("owner:")

    def work(connection):
        owned = connection.execute(
            f"SELECT m.id, v.name, {columns}, m.owner_count, v.key = ? FROM owners v JOIN models m ON m.id = v.model_id "
            f"WHERE v.key = ? {in_dataset} ORDER BY m.created DESC, m.id DESC", (viewer, owner, *chosen)).fetchall()
        if scope != "class":
            return owned
        others = connection.execute(
            f"SELECT m.id, COALESCE(m.first_name, m.name), {columns}, m.owner_count, 0 FROM models m "
            f"{'WHERE m.dataset = ?' if dataset is not None else ''} ORDER BY m.created DESC, m.id DESC",
            chosen).fetchall()
        mine = {row[0] for row in owned}
        return owned + [row for row in others if row[0] not in mine]

    return list(map(ModelEntry._make, run(work)))


def broken(dataset: str | None = None) -> list[folders.BrokenModel]:
    """Folders whose card cannot be read (any dataset: their dataset is unknown)."""
    rows = run(lambda connection: connection.execute("SELECT id, message FROM broken ORDER BY id DESC").fetchall())
    return [folders.BrokenModel(*row) for row in rows]


def indexed_card(model_id: str) -> folders.ModelCard | None:
    """The indexed card of a model, or None if the index does not list it."""
    row = run(lambda connection: connection.execute("SELECT card FROM models WHERE id = ?", (model_id,)).fetchone())
    return folders.ModelCard.from_dict(json.loads(row[0])) if row else None


def owners(model_id: str) -> list[folders.Owner]:
    rows = run(lambda connection: connection.execute(
        "SELECT key, display, name, added FROM owners WHERE model_id = ? ORDER BY added", (model_id,)).fetchall())
    return [folders.Owner(*row) for row in rows]


def finished_with_key(request_key: str) -> str | None:
    """The newest model trained from exactly this request for all its epochs (not stopped early), or None."""
    row = run(lambda connection: connection.execute(
        "SELECT id FROM models WHERE request_key = ? AND epochs_run >= epochs_requested "
        "ORDER BY created DESC LIMIT 1", (request_key,)).fetchone())
    return row[0] if row else None


def generation() -> int:
    """A number that changes whenever the index changes (cheap to poll: the class board watches it)."""
    return int(run(lambda connection: _meta(connection, "generation", 0)) or 0)


def lab_settings(dataset: str | None = None) -> dict[str, dict]:
    """{model id: its overfitting-lab settings} for the models trained with any, read from the index's cards (no
    card file): train_images and label_noise, and the card's lab section (l2, augment, early_stopping, …)."""
    in_dataset = "AND dataset = ?" if dataset is not None else ""

    def work(connection):
        return connection.execute(
            "SELECT id, json_extract(card, '$.train_images'), json_extract(card, '$.label_noise'), "
            "json_extract(card, '$.lab') FROM models WHERE (json_extract(card, '$.train_images') IS NOT NULL "
            f"OR json_extract(card, '$.lab') IS NOT NULL) {in_dataset}", (dataset,) if dataset is not None else ()
        ).fetchall()

    return {model_id: {"train_images": train_images, "label_noise": label_noise or 0.0,
                       **(json.loads(lab) if lab else {})}
            for model_id, train_images, label_noise, lab in run(work)}
