"""One more epoch, +N epochs: a training that continues a stored model from its weights and optimizer state.

    request = continuing.continuation(model_id, epochs=1)      # the parent's data, subset, spec and lab settings
    job = get_trainer().submit(request, owner=actor)            # the new model is the actor's

The .keras file keeps the optimizer's state (Adam's moments and its step count, `optimizer.iterations`), so the
continuation takes the very step the parent would have taken next; the loop also draws the shuffling on from where
the parent's training left it. The new card names its parent (`parent`) and keeps the full history: the parent's
epochs, then the new ones numbered on; its test probabilities hold every epoch too. Its key holds the parent's id
and key and N, so an identical continuation trains once. Every stored model is listed to the whole class (the class
board), so anyone who can see a model may continue it.
"""

import dataclasses

import numpy as np

from mnistlib import datasets, store
from mnistlib.models import ModelSpec
from mnistlib.store import folders
from mnistlib.training.jobs import Job
from mnistlib.training.requests import TrainRequest

# A request's own settings; any other field a card's lab section names is a lab setting carried on.
_NOT_LAB = {"dataset", "spec", "epochs", "subset", "name", "kind", "parent"}


def continuation(model_id: str, epochs: int, name: str | None = None) -> TrainRequest:
    """A request to train the stored model model_id for `epochs` more epochs on its data and settings; ValueError
    (one sentence) for an unknown model, one whose dataset was removed, or a number of epochs out of 1..MAX_EPOCHS.
    Nothing is stored or changed."""
    store.validate_id(model_id)
    card = parent_card(model_id)
    if card.dataset not in datasets.available():
        raise ValueError(f"This model was trained on the dataset {card.dataset}, which is not here any more, so it "
                         "cannot be continued.")
    lab = {}
    if card.train_images is not None:
        lab.update(train_images=card.train_images, label_noise=card.label_noise)
    known = {field.name for field in dataclasses.fields(TrainRequest)} - _NOT_LAB
    lab.update({key: value for key, value in (getattr(card, "lab", None) or {}).items() if key in known})
    if name is None:
        more = f" + {epochs} epoch{'' if epochs == 1 else 's'}" if isinstance(epochs, int) else ""
        name = card.name[: store.MAX_NAME_LENGTH - len(more)] + more
    return TrainRequest(dataset=card.dataset, spec=ModelSpec.from_dict(card.spec), epochs=epochs, subset=card.subset,
                        name=name, parent=model_id, **lab)


def parent_card(model_id: str):
    """The card of the model a request continues; ValueError (one sentence) when it cannot be read."""
    try:
        return store.load_card(model_id)
    except (store.ModelNotFoundError, store.CorruptModelError) as error:
        raise ValueError(f"The model to continue cannot be read ({error}).") from error


def new_job(job_id: str, request: TrainRequest, owners) -> Job:
    """A Job for request; one continuing a stored model starts with that model's epochs (ValueError if it is gone)."""
    job = Job(job_id, request, owners)
    if request.parent is not None:
        job.continue_from(parent_card(request.parent).history)
    return job


def parent_of(request: TrainRequest) -> dict:
    """What a worker needs of the model a request continues: its .keras bytes, history and training seconds, and
    the request's key (which reads the parent's card: a cluster's worker has no store to read it from)."""
    card = parent_card(request.parent)
    return {"model": store.model_bytes(request.parent), "history": card.history,
            "training_seconds": card.training_seconds, "request_key": request.key()}


def every_epoch(request: TrainRequest, probabilities: np.ndarray) -> np.ndarray:
    """The test probabilities (epochs, M, C) to store: a continuation's parent's epochs first, then its own."""
    if request.parent is None:
        return probabilities
    store.load_probabilities(request.parent)  # checks the file (CorruptModelError)
    # The stored float16 rows as they are (load_probabilities renormalises them: saved again, they would drift).
    stored = np.load(folders.folder(request.parent) / folders.PROBABILITIES_FILE, allow_pickle=False)
    return np.concatenate([stored, probabilities.astype(stored.dtype)])
