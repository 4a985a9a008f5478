"""The model store: a folder per trained model (the source of truth) and a SQLite index for fast listing.

    from mnistlib import store
    card = store.save(model, card_fields, probabilities, owners=[actor])
    store.entries(dataset="mnist", viewer=actor.key, scope="mine")   # fast: the index, no card files read
    store.load_card(model_id); store.load_probabilities(model_id); store.load_model(model_id)
    store.ownership.rename(model_id, actor, "my net"); store.ownership.remove(model_id, actor)
"""

import json

from mnistlib.store import folders, index, listing, ownership
from mnistlib.store.folders import (
    MAX_NAME_LENGTH,
    BrokenModel,
    CorruptModelError,
    ModelCard,
    ModelNotFoundError,
    Owner,
    load_hidden_map,
    load_model,
    load_probabilities,
    model_bytes,
    validate_id,
    validate_name,
)
from mnistlib.store.index import rebuild
from mnistlib.store.listing import ModelEntry, broken, entries, generation, indexed_card, lab_settings
from mnistlib.store.ownership import TEACHER, Actor, PermissionDenied

__all__ = [
    "MAX_NAME_LENGTH", "TEACHER", "Actor", "BrokenModel", "CorruptModelError", "ModelCard", "ModelEntry",
    "ModelNotFoundError", "Owner", "PermissionDenied", "broken", "delete", "entries", "find_trained", "generation",
    "indexed_card", "lab_settings", "list_models", "load_card", "load_hidden_map", "load_model", "load_probabilities", "model_bytes", "ownership", "rebuild", "save",
    "validate_id", "validate_name",
]


def save(model, card_fields: dict, test_probabilities, owners=(), hidden_map: dict | None = None) -> ModelCard:
    """Store a model (Keras model or .keras bytes) with its card and test probabilities (epochs, M, C) float16,
    in the lists of owners (Actors; the first is who trained it), and index it; hidden_map: the test set's
    hidden-space map per epoch, {"epochs": [...], "points": (epochs, M, 2)}."""
    owners = list(owners)
    name = folders.validate_name(card_fields["name"])
    card_fields = {**card_fields, "name": name}
    if owners:
        card_fields.setdefault("trained_by", owners[0].display)
    stamp = folders.now()
    owner_rows = [Owner(actor.key, actor.display, name, stamp) for actor in owners]
    card = folders.save(model, card_fields, test_probabilities, owner_rows, hidden_map)
    index.record(card, owner_rows)
    return card


def load_card(model_id: str) -> ModelCard:
    """The card of a stored model; CorruptModelError naming the model if it cannot be read (the index then lists
    it as broken, so pickers stop offering it)."""
    try:
        return folders.read_card(model_id)
    except CorruptModelError as error:
        index.mark_broken(model_id, str(error))
        raise


def list_models(dataset: str | None = None) -> list:
    """Stored models, newest first, as ModelCard (and BrokenModel for unreadable ones); optionally one dataset."""
    def work(connection):
        query = "SELECT card FROM models" + (" WHERE dataset = ?" if dataset else "") + " ORDER BY created DESC, id DESC"
        return connection.execute(query, (dataset,) if dataset else ()).fetchall()

    cards = [ModelCard.from_dict(json.loads(row[0])) for row in index.run(work)]
    return sorted([*cards, *listing.broken()], key=lambda entry: entry.id, reverse=True)


def find_trained(request_key: str) -> str | None:
    """The id of a stored model trained from exactly this request to its last epoch, or None."""
    return listing.finished_with_key(request_key) if request_key else None


def delete(model_id: str) -> None:
    """Remove a stored model for everyone, with no rights check (tools and tests; pages use ownership.remove)."""
    folders.remove(model_id)
    index.forget(model_id)
