"""Pause, Resume, Step and Let the queue go on, as methods of a Job (pausing.py, releasing.py): only its first owner
(or the teacher, or the program itself: actor None) may; each returns a sentence saying what happened."""

from mnistlib.store import PermissionDenied
from mnistlib.training import pausing
from mnistlib.training.requests import TrainRequest

ENDED = ("finished", "stopped", "failed")
PAUSING = "Pausing: it holds still after the steps in progress; the model stays in its worker's memory."
NOT_YOURS_TO_PAUSE = ("Only the student who started this shared training (or the teacher) can pause, resume or step "
                      "it, since it runs for everyone who joined. Nothing was changed.")
RELEASING = ("Letting the queue go on: at the end of the epoch in progress (at once when it holds between epochs) its "
             "model is stored and its worker takes the next training; Resume then queues the rest of its epochs.")
TRAINED_ELSEWHERE = ("This training runs in another of the school's server processes, so it cannot be paused, "
                     "resumed or stepped from here. Nothing was changed; Stop still leaves it.")
RELEASED_ALREADY = "Its worker already went to the queue: Resume queues the rest of its epochs."
RELEASED_NO_STEP = "Its worker goes to the queue, so it cannot step: Resume queues the rest of its epochs."
PAUSE_FIRST = "Pause it first: only a paused training can let the queue go on."


class PauseControls:
    """The Job's controls of its training; they use its _lock, _state, owners, request and _control."""

    def pause(self, actor=None) -> str:
        """Hold the training still (its model stays in its worker's memory) and return a sentence saying so."""
        with self._lock:
            refusal = self._refuse_control(actor)
            if refusal is None and (self._state.status == "paused" or self._state.control in ("pause", "release")):
                refusal = "It is already paused."
            if refusal is not None:
                return refusal
            self._state.control = "pause"
        self._control(pausing.PAUSE)
        return PAUSING

    def resume(self, actor=None) -> str:
        """Let a paused training go on and return a sentence saying so."""
        with self._lock:
            refusal = self._refuse_control(actor)
            if refusal is None and self._state.status != "paused" and self._state.control == "run":
                refusal = "It is not paused: it is training."
            if refusal is not None:
                return refusal
            released, self._state.control = self._state.control == "released", "run"
        if released:
            return self._requeue()  # its worker went to the queue: the rest of it is queued (releasing.py)
        self._control(pausing.RUN)  # while letting go: trains on here, or is queued on once its model is stored
        return "Resuming: it goes on from where it held."

    def step(self, actor=None) -> str:
        """Train to the end of the epoch in progress (a whole epoch when paused between epochs), then pause."""
        with self._lock:
            refusal = self._refuse_control(actor)
            if refusal is None and self._state.control in ("release", "released"):
                refusal = RELEASED_NO_STEP
            if refusal is not None:
                return refusal
            self._steps += 1
            self._state.control = "step"
            word = pausing.step_word(self._steps)
        self._control(word)
        return "Step: it trains to the end of this epoch, then pauses."

    def let_queue_go_on(self, actor=None) -> str:
        """A paused training frees its worker for the queue: at an epoch boundary its model is stored (a stopped
        model); Resume then queues the rest of its epochs from it (releasing.py). Returns a sentence saying so."""
        with self._lock:
            refusal = self._refuse_control(actor)
            control = self._state.control
            if refusal is None:
                refusal = {"release": "It is already letting the queue go on.", "released": RELEASED_ALREADY,
                           "run": PAUSE_FIRST, "step": PAUSE_FIRST}.get(control)
            if refusal is None and self.request.kind != "train":
                refusal = "The learning-rate finder keeps no model to go on from: Stop it instead."
            if refusal is None and self.request.early_stopping is not None:
                refusal = ("Early stopping counts epochs without a lower validation loss in the worker's memory, so "
                           "this training keeps its worker: Resume or Stop it.")
            if refusal is not None:
                return refusal
            self._state.control, self.release_asked = "release", True
        self._control(pausing.RELEASE)
        return RELEASING

    def released_to_queue(self, model_id: str | None) -> bool:
        """Its worker let go at an epoch boundary and model_id (None: before the first epoch) stores it: the job
        waits for Resume. False (nothing changed) if a Stop came first."""
        with self._lock:
            if not self.release_asked or self._state.status in ENDED:
                return False
            self.release_asked, self._state.released_model = False, model_id
            self._state.status, self._state.eta_seconds = "paused", None
            if self._state.control != "run":  # "run": Resume was asked meanwhile, and the Trainer queues it on
                self._state.control = "released"
            return True

    def requeued(self, task_request: TrainRequest) -> None:
        """Queued again for the rest of its epochs (task_request), after Let the queue go on and Resume."""
        with self._lock:
            self.task_request = task_request
            self._state.status, self._state.control, self._state.released_model = "queued", "run", None
            self._state.epochs_before = len(self._state.history)
            self._elapsed_before = self._state.elapsed_seconds

    def _refuse_control(self, actor) -> str | None:
        """Why this actor may not pause this job now (a sentence), or None; PermissionDenied for a student who is
        not its first owner. Called with the lock held."""
        status = self._state.status
        if status in ENDED:
            return {"finished": "This training already finished.", "stopped": "This training was already stopped.",
                    "failed": "This training already ended: it failed."}[status]
        if actor is not None and not actor.teacher and (not self.owners or self.owners[0].key != actor.key):
            raise PermissionDenied(NOT_YOURS_TO_PAUSE)
        if self.trained_elsewhere:  # its worker is another process's: a word written here would reach nobody
            return TRAINED_ELSEWHERE
        if status == "queued":
            return "This training waits for a free worker: Pause works once it trains."
        return None
