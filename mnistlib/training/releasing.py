"""Let the queue go on: a paused training frees its worker for the queue, and Resume queues the rest of it.

    job.pause(actor); job.let_queue_go_on(actor)   # word "release": the worker stops at an epoch boundary
    job.resume(actor)                              # the remaining epochs, queued as a continuation of that model

At an epoch boundary a model is whole: its .keras file holds the weights and the optimizer state, and a
continuation draws the shuffling on from there (continuing.py), so k epochs, let go, then the rest, give the very
model the whole training would have given, bit for bit. The boundary's model is stored (a stopped model, in every
owner's list); the job keeps its id, history and curves, and its final model names that one as its parent.
"""

from mnistlib import store
from mnistlib.training import continuing, events, journal, pausing

RESTARTED = ("The server restarted while this training waited for Resume, its worker given to the queue: its model "
             "of epoch {epoch} is kept. One more epoch or +N epochs continue it.")


def parks(trainer, job, outcome: events.Outcome) -> bool:
    """The Trainer's hook for an outcome: True when it is the worker letting go of a job that asked to (its model,
    if any, is stored and the job waits for Resume, or is queued on at once if Resume came meanwhile)."""
    if not job.release_asked or outcome.kind != "Stopped" or trainer._closed:
        return False
    if len(outcome.history) >= job.snapshot().epochs:
        return False  # its last epoch ended as it let go: nothing is left to train
    try:
        model_id = trainer._store(job, outcome) if outcome.model is not None else None
    except Exception:  # noqa: BLE001 — the Trainer's ending tries again and says why it could not save
        return False
    if not job.released_to_queue(model_id):  # a Stop came first: it ends as stopped, with this model
        trainer._end(job, events.Stopped(job.id, model_id, outcome.history, outcome.test_loss, outcome.test_accuracy),
                     model_id)
        return True
    if trainer._journal:  # what a restart finds: the stored model, not a training lost with its worker
        journal.update(job.id, "stopped", RESTARTED.format(epoch=len(outcome.history)), model_id)
    if job.snapshot().control == "run":
        requeue(trainer, job)
    return True


def requeue(trainer, job) -> str:
    """Resume of a released job: queue the rest of its epochs, from its stored model; a sentence saying so."""
    state = job.snapshot()
    remaining = state.epochs - len(state.history)
    try:
        if state.released_model is None:  # let go before its first epoch ended: all of it, from the start
            task = job.request
        else:
            kept = store.load_card(state.released_model)
            task = continuing.continuation(state.released_model, remaining, name=kept.name)
    except (ValueError, store.ModelNotFoundError, store.CorruptModelError) as error:
        with job._lock:
            job._state.control = "released"
        return f"Its stored model cannot be read any more ({error}), so it cannot go on: Stop it."
    with trainer._lock:
        trainer.backend.control(job.id, pausing.RUN)  # the next worker must not read the old word
        job.requeued(task)
        if trainer._journal:
            journal.update(job.id, "queued")
        trainer._start(job)
    job.apply(events.Queued(job.id, trainer.queue_position(job)))
    return f"Resuming: the remaining {remaining} epoch{'' if remaining == 1 else 's'} wait for the next free worker."


def stop(trainer, job) -> None:
    """Stop of a released job: it ends as stopped with its stored model (nothing runs to stop)."""
    state = job.snapshot()
    card = None if state.released_model is None else store.load_card(state.released_model)
    trainer._end(job, events.Stopped(job.id, state.released_model, state.history,
                                     card.test_loss if card else None, card.test_accuracy if card else None,
                                     "Stopped: the model as of its last finished epoch is kept."),
                 state.released_model)
