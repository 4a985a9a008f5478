"""A training job and its state, folded from the events of wherever it runs. Several students can share one job:
each is an owner, and the model it makes goes into every owner's list."""

import copy
import dataclasses
import threading

from mnistlib.store import PermissionDenied
from mnistlib.training import events
from mnistlib.training.job_controls import ENDED, PauseControls
from mnistlib.training.requests import TrainRequest

ACTIVE = ("queued", "starting", "running", "paused")  # paused: held in its worker (or, released, its model stored)
STATUS_OF_ENDING = {events.Finished: "finished", events.Stopped: "stopped", events.Failed: "failed"}


@dataclasses.dataclass
class JobState:
    """Everything a page needs to show a job; Job.snapshot() returns a copy."""

    status: str = "queued"
    queue_position: int = 0  # jobs ahead of this one in the queue
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    elapsed_seconds: float = 0.0
    eta_seconds: float | None = None
    progress: list = dataclasses.field(default_factory=list)  # {step, epoch, loss, accuracy} within epochs
    progress_from: int = 0  # how many earlier points progress leaves out (Job.progress_since)
    history: list = dataclasses.field(default_factory=list)  # {epoch, loss, accuracy, val_loss, val_accuracy}
    test_loss: float | None = None
    test_accuracy: float | None = None
    model_id: str | None = None
    message: str = ""
    where: str = ""  # which machine or process trains it
    owners: list = dataclasses.field(default_factory=list)  # display names of the students sharing it
    owner_keys: list = dataclasses.field(default_factory=list)
    left_keys: list = dataclasses.field(default_factory=list)  # owners who stopped watching a shared job
    reused: bool = False  # an identical model was already stored: nothing was trained
    rate_points: list = dataclasses.field(default_factory=list)  # learning-rate finder: {learning_rate, loss, …}
    result: dict | None = None  # learning-rate finder: its curve (lr_finder.Curve.to_dict())
    # What its first owner last asked (pausing.py): "run" (Resume), "pause", "step", "release" (Let the queue go on:
    # on to an epoch boundary, then its worker is freed) or "released" (freed: Resume queues the rest, releasing.py)
    control: str = "run"
    released_model: str | None = None  # "released": the stored model of the boundary where it let its worker go
    epochs_before: int = 0  # a continuation: its parent's epochs (history starts with them; epochs counts them)


class Job(PauseControls):
    """One training request, its owners and its state, updated from events."""

    def __init__(self, job_id: str, request: TrainRequest, owners=()):
        self.id, self.request, self.key = job_id, request, request.key()
        self.future = None
        self.owners = list(owners)  # store.Actor, first = who asked first
        self._state = JobState(epochs=request.epochs)
        self._position = lambda: 0  # set by the Trainer: jobs ahead of this one
        self._stop = lambda: None  # set by the Trainer: ask the backend to stop this job
        self._control = lambda word: None  # set by the Trainer: give the backend this job's Pause/Step word
        self.trained_elsewhere = False  # another server process trains it, this one follows (shared_jobs.py)
        self._steps = 0  # Step clicks so far: each one's word differs (pausing.step_word)
        self.task_request = request  # what its worker trains now: after Let the queue go on, the rest (releasing.py)
        self.release_asked = False  # Let the queue go on was asked (and no Stop since): a Stopped outcome parks it
        self._requeue = lambda: "Resuming: it goes on from where it held."  # set by the Trainer (releasing.py)
        self._elapsed_before = 0.0  # training seconds of its earlier workers (after Let the queue go on)
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self._delivered = threading.Condition()  # counts events from the training, see wait_for_events
        self._events_seen = 0

    def __repr__(self):
        return f"Job({self.id!r}, {self._state.status}, {len(self.owners)} owner(s))"

    def snapshot(self) -> JobState:
        """A copy of the current state, safe to read while events keep arriving."""
        with self._lock:
            state = copy.deepcopy(self._state)
            state.owners = [owner.display for owner in self.owners]
            state.owner_keys = [owner.key for owner in self.owners]
        if state.status == "queued":
            state.queue_position = self._position()
        return state

    def progress_since(self, seen: int) -> JobState:
        """Like snapshot(), but progress holds only the points after the first `seen` (progress_from says where it
        starts): a live view polling twice a second copies what is new, not every point again. The other lists are
        copied shallowly: their entries are never changed once added."""
        with self._lock:
            state = dataclasses.replace(self._state, history=list(self._state.history),
                                        rate_points=list(self._state.rate_points), left_keys=list(self._state.left_keys))
            state.progress_from = min(max(seen, 0), len(self._state.progress))
            state.progress = self._state.progress[state.progress_from:]
            state.owners = [owner.display for owner in self.owners]
            state.owner_keys = [owner.key for owner in self.owners]
        if state.status == "queued":
            state.queue_position = self._position()
        return state

    def continue_from(self, history: list) -> None:
        """This job continues a stored model: its state starts with that model's epochs (history), numbered on."""
        with self._lock:
            self._state.history = list(history)
            self._state.epochs_before = len(history)
            self._state.epochs = len(history) + self.request.epochs

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def add_owner(self, actor) -> None:
        """Share this job with one more student (once)."""
        with self._lock:
            if actor is not None and all(owner.key != actor.key for owner in self.owners):
                self.owners.append(actor)
                if actor.key in self._state.left_keys:
                    self._state.left_keys.remove(actor.key)

    def stop(self, actor=None) -> str:
        """Stop at any moment (a queued job is dropped; a running one keeps its last finished epoch) and return a
        sentence saying what happened. In a job shared by several students, one student's Stop only takes them
        off it and the others' training goes on. actor None: the program itself (CLI, shutdown) — always stops.
        PermissionDenied for a student who does not share the job."""
        with self._lock:
            if self._state.status in ENDED:
                return "This training has already ended."
            if actor is not None and not actor.teacher:
                if all(owner.key != actor.key for owner in self.owners):
                    raise PermissionDenied("This training belongs to someone else: only they (or the teacher) can "
                                           "stop it. Nothing was changed.")
                if len(self.owners) > 1:
                    self.owners = [owner for owner in self.owners if owner.key != actor.key]
                    self._state.left_keys.append(actor.key)
                    return (f"You left this shared training; it goes on for the {len(self.owners)} other student(s) "
                            "who asked for exactly the same. Its model will not be in your list.")
            self.release_asked = False  # a Stop ends it, even while it was letting its worker go
        self._stop()
        return "Stopping: the model as of the last finished epoch is kept."

    def wait(self, timeout: float | None = None) -> JobState:
        """Block until the job has ended (or timeout seconds passed); returns the state."""
        self._ended.wait(timeout)
        return self.snapshot()

    def apply(self, event: events.Event) -> None:
        """Fold one event into the state (events after the end are ignored)."""
        with self._lock:
            state = self._state
            if state.status in ENDED:
                return
            if isinstance(event, events.Queued):
                state.queue_position = event.position
            elif isinstance(event, events.Started):
                state.status, state.queue_position, state.where = "starting", 0, event.where
            elif isinstance(event, events.Progress):
                state.status = "running"
                state.epoch, state.batch, state.batches = event.epoch, event.batch, event.batches
                state.elapsed_seconds = self._elapsed_before + event.elapsed
                done = (event.epoch - 1) + event.batch / event.batches
                here = done - state.epochs_before  # a continuation's parent epochs took no time in this worker
                state.eta_seconds = event.elapsed * (state.epochs - done) / here if here > 0 else None
                state.progress.append({"step": round(done, 4), "epoch": event.epoch,
                                       "loss": event.loss, "accuracy": event.accuracy})
            elif isinstance(event, events.RateProgress):
                state.status = "running"
                state.batch, state.batches, state.elapsed_seconds = event.step, event.steps, event.elapsed
                state.rate_points.append({"learning_rate": event.learning_rate, "loss": event.loss,
                                          "smoothed_loss": event.smoothed_loss})
            elif isinstance(event, events.EpochEnd):
                state.history.append(event.record())
            elif isinstance(event, events.Paused):
                state.status, state.eta_seconds = "paused", None
                if state.control == "step":  # its epoch is done: now it holds like a Pause
                    state.control = "pause"
            elif isinstance(event, events.Resumed):
                state.status = "running"
            elif isinstance(event, events.ENDINGS):
                state.status = STATUS_OF_ENDING[type(event)]
                state.eta_seconds = None
                state.message = event.message
                if not isinstance(event, events.Failed):
                    state.model_id, state.result = event.model_id, event.result
                    state.test_loss, state.test_accuracy = event.test_loss, event.test_accuracy
                    if len(event.history) >= len(state.history):
                        state.history = list(event.history)
        if isinstance(event, events.ENDINGS):
            self._ended.set()
        elif not isinstance(event, events.Queued):
            with self._delivered:
                self._events_seen += 1
                self._delivered.notify_all()

    @property
    def events_applied(self) -> int:
        """How many events from the training have been applied so far (see wait_for_events)."""
        with self._delivered:
            return self._events_seen

    def wait_for_events(self, count: int, timeout: float) -> bool:
        """Wait until count events from the training have been applied (or timeout seconds); True if they were."""
        with self._delivered:
            return self._delivered.wait_for(lambda: self._events_seen >= count, timeout)

    def mark_reused(self, card, message: str) -> None:
        """End this job at once with an identical model already stored (nothing is trained)."""
        with self._lock:
            self._state.reused = True
        self.apply(events.Finished(self.id, card.id, card.history, card.test_loss, card.test_accuracy, message))

    def start_again(self) -> None:
        """Forget the progress of an attempt that was lost with its process: the job is queued again (same id, same
        owners) and trained from the start (shared_jobs.py, when a server process died)."""
        with self._lock:
            if self._state.status in ENDED:
                return
            self._state = JobState(epochs=self.request.epochs, left_keys=self._state.left_keys)
            self.task_request, self.release_asked, self._elapsed_before = self.request, False, 0.0
        with self._delivered:
            self._events_seen = 0
