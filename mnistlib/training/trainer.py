"""The Trainer: takes TrainRequests, trains each distinct one once, and stores what comes back.

A request equal to one already running joins it (its live progress from where it is); one equal to a stored
model gets that model at once — the same data, settings and seed give a bit-identical model, so training it
again is pure waste. The training itself runs on a backend (a pool of local processes, or a Dask cluster);
the server writes the store. With journal=True (the web server), jobs are recorded in the store's database
and survive a restart.
"""

import atexit
import secrets
import threading
from collections import OrderedDict
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor

from mnistlib import datasets, store, user_datasets
from mnistlib.training import backends, continuing, events, journal, recorded, releasing, shared_jobs
from mnistlib.training.jobs import ACTIVE, ENDED, STATUS_OF_ENDING, Job
from mnistlib.training.requests import TrainRequest

REUSED = ("The class already trained exactly this — same data, settings, seed and epochs — so that model opened at "
          "once: the same seed gives the same result. Change the seed for a different run.")
EVENTS_GRACE_SECONDS = 2.0  # how long an ending waits for the training's events still on their way
KEEP_SENT_DATA = 4  # a class's own datasets kept ready to send to a cluster (see _arrays)


class Trainer:
    """Runs TrainRequests on a backend; identical requests share one training; results go to the store."""

    def __init__(self, backend=None, journal_jobs: bool = False):
        self.backend = backend if backend is not None else backends.from_environment()
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []
        self._active: dict[str, Job] = {}  # request key -> the job training it
        self._saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mnistlib-store")
        self._closed = False
        self._journal = journal_jobs
        self._server_lock = None
        self._sent_data: OrderedDict = OrderedDict()  # (dataset, subset, checksum) -> datasets.to_arrays(…)
        # With the journal (the web server), trainings are claimed in the store's database, shared with every
        # other server process on the same store (see shared_jobs.py).
        self._shared = shared_jobs.SharedJobs(self) if journal_jobs else None
        threading.Thread(target=self._dispatch, daemon=True, name="mnistlib-events").start()
        if journal_jobs:
            recorded.recover(self)
            self._shared.start()

    def __repr__(self):
        return f"Trainer({self.backend!r}, {len(self._active)} active)"

    # ## Submitting

    def submit(self, request: TrainRequest, owner=None) -> Job:
        """The Job training this request for owner (a store.Actor, or None): a new one, the running job of an
        identical request (shared), or an already-ended job holding the identical stored model."""
        with self._lock:
            running = self._active.get(request.key())
            if running is not None and not running.ended:
                running.add_owner(owner)
                if self._journal:
                    journal.record(running, running.snapshot().status)
                if self._shared is not None:
                    self._shared.joined(running, owner)
                return running
            job = continuing.new_job(secrets.token_hex(6), request, [owner] if owner is not None else [])
            stored = store.find_trained(job.key)
            if stored is not None and self._reuse(job, stored, owner):
                self._register(job)
                return job
            self._register(job)
            if self._journal:
                journal.record(job)
            if self._shared is not None and self._shared.follows(job):
                return job  # another server process trains it (or has just stored it): this job follows that one
            self._active[job.key] = job
            self._start(job)
        job.apply(events.Queued(job.id, self.queue_position(job)))
        return job

    def _reuse(self, job: Job, model_id: str, owner) -> bool:
        """End job with the stored model model_id (put in owner's list); False if it vanished meanwhile."""
        try:
            card = store.load_card(model_id)
            if owner is not None:
                store.ownership.add_owner(model_id, owner, job.request.name)
        except (store.ModelNotFoundError, store.CorruptModelError):
            return False
        job.mark_reused(card, REUSED)
        return True

    def _register(self, job: Job) -> None:
        job._position = lambda: self.queue_position(job)
        job._stop = lambda: self._stop(job)
        job._control = lambda word: self.backend.control(job.id, word)
        job._requeue = lambda: releasing.requeue(self, job)  # Resume after Let the queue go on
        self._jobs[job.id] = job
        self._order.append(job.id)

    def _start(self, job: Job) -> None:
        """Hand a job to the backend (called with the lock held); a class's own dataset travels with it to a backend
        that cannot read this disk (needs_arrays)."""
        task = job.task_request  # the request, or after Let the queue go on the rest of it (releasing.py)
        try:
            extra = {"arrays": self._arrays(task)} if self._sends_data(task) else {}
            if task.parent is not None:  # the model it continues travels with it (a worker has no store)
                extra["parent"] = continuing.parent_of(task)
        except (ValueError, RuntimeError, LookupError) as error:  # removed or damaged since the request was made
            job.future = Future()
            job.future.set_result(events.failed(f"This training could not start: {error}"))
        else:
            job.future = self.backend.submit(job.id, task.to_dict(), **extra)
        job.future.add_done_callback(lambda future, job=job: self._hand_over(job, future))

    def _sends_data(self, request: TrainRequest) -> bool:
        return getattr(self.backend, "needs_arrays", False) and datasets.info(request.dataset).custom

    def _arrays(self, request: TrainRequest) -> dict:
        """datasets.to_arrays of the request's dataset, built once per dataset checksum (the last few are kept)."""
        checksum = user_datasets.arrays_checksum(datasets.info(request.dataset).sha256)
        key = (request.dataset, request.subset, checksum)
        if key not in self._sent_data:
            self._sent_data[key] = datasets.to_arrays(request.dataset, request.subset)
            while len(self._sent_data) > KEEP_SENT_DATA:
                self._sent_data.popitem(last=False)
        self._sent_data.move_to_end(key)
        return self._sent_data[key]

    def _hand_over(self, job: Job, future) -> None:
        """Storing a model takes a moment: do it on the trainer's own thread, not the backend's."""
        try:
            self._saver.submit(self._finished, job, future)
        except RuntimeError:  # shutting down: no new work; the journal keeps what was queued
            pass

    def _stop(self, job: Job) -> None:
        if job.snapshot().control == "released":  # nothing runs: it ends with its stored model
            releasing.stop(self, job)
            return
        self.backend.stop(job.id)
        if job.future is not None and job.future.cancel():
            self._conclude(job, events.Outcome("Stopped"))

    # ## Events and endings

    def _dispatch(self) -> None:
        """Route events from the backend to their jobs (and record the start of each in the journal)."""
        while not self._closed:
            try:
                message = self.backend.events.get(timeout=0.5)
                event = events.from_message(message)
            except ValueError:
                continue
            except Exception:  # queue.Empty, or the backend closing
                continue
            job = self._jobs.get(event.job)
            if job is None:
                continue
            job.apply(event)
            if self._shared is not None:
                self._shared.forward(job, message)
            if isinstance(event, events.Started | events.Paused | events.Resumed) and self._journal:
                journal.update(job.id, "paused" if isinstance(event, events.Paused) else "running")

    def _finished(self, job: Job, future) -> None:
        """The task ended: store its model; a crashed worker becomes a failed job (or a retry if it never started)."""
        try:
            outcome = future.result()
        except CancelledError:
            if self._closed:
                return  # cancelled by shutdown before it started: its journal row stays queued for the next run
            outcome = events.Outcome("Stopped")
        except Exception as error:  # noqa: BLE001 — whatever happened, the user gets a message, not a hang
            if self.backend.crashed(error):
                if job.snapshot().status == "queued" and not self._closed:
                    with self._lock:
                        self._start(job)  # its process died before it started: run it on a fresh one
                    return
                outcome = events.failed(self.backend.crashed_message)
            else:
                outcome = events.failed(f"The training could not run: {error}. Try again; if it keeps failing, "
                                        "tell your teacher.")
        self._conclude(job, outcome)

    def _conclude(self, job: Job, outcome: events.Outcome) -> None:
        """Store the outcome's model for every owner and end the job with the matching event."""
        # Its last progress events can still be on their way (another queue, another thread): apply them first.
        job.wait_for_events(outcome.events_sent, timeout=EVENTS_GRACE_SECONDS)
        if releasing.parks(self, job, outcome):
            return  # it let its worker go for the queue, its model stored: it waits for Resume
        model_id = None
        if outcome.model is not None and outcome.kind != "Failed":
            try:
                model_id = self._store(job, outcome)
            except Exception as error:  # noqa: BLE001
                outcome = events.failed(f"The model was trained but could not be saved: {error}.")
        if outcome.kind == "Failed":
            ending = events.Failed(job.id, outcome.message)
        else:
            finished = outcome.kind == "Finished" and (model_id or outcome.result is not None)
            kind = events.Finished if finished else events.Stopped
            ending = kind(job.id, model_id, outcome.history, outcome.test_loss, outcome.test_accuracy, outcome.message,
                          outcome.result)
        self._end(job, ending, model_id)

    def _end(self, job: Job, ending, model_id: str | None) -> None:
        """End job with ending (Finished, Stopped or Failed): off the active list, the claim released, journalled."""
        with self._lock:
            if self._active.get(job.key) is job:
                del self._active[job.key]
        if self._shared is not None:  # before the job ends here: whoever waits for it finds the claim released
            self._shared.ended(job, STATUS_OF_ENDING[type(ending)], model_id, ending.message)
        job.apply(ending)
        if self._journal:
            journal.update(job.id, job.snapshot().status, job.snapshot().message, model_id)

    def _store(self, job: Job, outcome: events.Outcome) -> str:
        with self._lock:
            owners = list(job.owners)
        probabilities = continuing.every_epoch(job.task_request, outcome.probabilities)
        card = store.save(outcome.model, outcome.card, probabilities, owners=owners,
                          hidden_map=outcome.hidden_map)
        with self._lock:  # students who joined while it was being saved
            late = [owner for owner in job.owners if owner not in owners]
        for owner in late:
            store.ownership.add_owner(card.id, owner, job.request.name)
        return card.id

    # ## Looking jobs up

    def job(self, job_id: str) -> Job | None:
        """A job by id (e.g. from a URL after the tab was closed or the server restarted), or None."""
        if not isinstance(job_id, str):
            return None
        job = self._jobs.get(job_id)
        if job is None and self._journal:
            job = recorded.from_journal(job_id)
        if job is None and self._shared is not None:
            job = self._shared.adopt(job_id)  # one another server process trains
        return job

    def queue_position(self, job: Job) -> int:
        """How many jobs submitted earlier have not ended yet (waiting or training): they go before this one."""
        with self._lock:
            if job.id not in self._jobs:
                return 0
            earlier = self._order[: self._order.index(job.id)]
            return sum(1 for other in earlier if self._jobs[other]._state.status in ACTIVE
                       and self._jobs[other]._state.control != "released")  # a released one holds no worker

    # ## A restart, and the end

    def shutdown(self) -> None:
        """Stop every job and end the backend (nothing is left behind, not even a zombie process)."""
        if self._closed:
            return
        for job in list(self._jobs.values()):
            if job.snapshot().status in ACTIVE:
                self.backend.stop(job.id)
        self._closed = True
        if self._shared is not None:
            self._shared.close()
        self.backend.shutdown()
        self._saver.shutdown(wait=True, cancel_futures=False)
        if self._server_lock is not None:
            self._server_lock.close()


_trainer: Trainer | None = None
_trainer_lock = threading.Lock()


def get_trainer(journal_jobs: bool = False) -> Trainer:
    """The process's one Trainer (created on first use, shut down at exit); journal_jobs for the web server."""
    global _trainer
    with _trainer_lock:
        if _trainer is None or _trainer._closed:
            _trainer = Trainer(journal_jobs=journal_jobs)
            atexit.register(_trainer.shutdown)
        return _trainer


__all__ = ["ENDED", "Trainer", "get_trainer"]
