"""Jobs of an earlier server run, from the journal (the store's database): queued again on start, or rebuilt when a
student's link names an ended one."""

from mnistlib import store
from mnistlib.training import continuing, events, journal
from mnistlib.training.jobs import ACTIVE, Job
from mnistlib.training.requests import TrainRequest


def from_journal(job_id: str) -> Job | None:
    """An ended job of an earlier server run, rebuilt from its record (None if unknown or unreadable)."""
    try:
        row = journal.load(job_id)
        if row is None or row["status"] in ACTIVE:
            return None
        job = continuing.new_job(row["id"], TrainRequest.from_dict(row["request"]), row["owners"])
    except (ValueError, KeyError, TypeError):
        return None
    if row["status"] == "failed" or row["model_id"] is None:
        job.apply(events.Failed(job.id, row["message"]) if row["status"] == "failed"
                  else events.Stopped(job.id, None, [], message=row["message"]))
        return job
    try:
        card = store.load_card(row["model_id"])
    except (store.ModelNotFoundError, store.CorruptModelError):
        job.apply(events.Failed(job.id, "This training's model has been deleted since."))
        return job
    kind = events.Finished if row["status"] == "finished" else events.Stopped
    job.apply(kind(job.id, card.id, card.history, card.test_loss, card.test_accuracy, row["message"]))
    return job


def recover(trainer) -> None:
    """Queue again what the last server had queued; fail what it was running (it is lost)."""
    trainer._server_lock = journal.claim_server()
    if trainer._server_lock is None:
        return  # another live server owns these jobs
    journal.prune()
    for row in journal.unfinished():
        if trainer._shared.recovers(row):
            continue  # claimed in the shared queue: taken over there
        if row["status"] != "queued":
            journal.update(row["id"], "failed", journal.RESTARTED)
            continue
        try:
            job = continuing.new_job(row["id"], TrainRequest.from_dict(row["request"]), row["owners"])
        except (ValueError, KeyError, TypeError) as error:
            journal.update(row["id"], "failed", f"This queued training could not be read back ({error}).")
            continue
        with trainer._lock:
            trainer._register(job)
            trainer._active.setdefault(job.key, job)
            trainer._start(job)
