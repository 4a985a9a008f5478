"""Training jobs: requests go to a pool of warm worker processes; their events update each Job's state.

Why processes: inside a Streamlit server a training thread ran 12x slower, because Streamlit calls
keras.backend.clear_session() and gc.collect(2) after every script run; a worker process trains at
full speed. The pool is a standard concurrent.futures executor, so a cluster executor can replace it.
"""

import atexit
import contextlib
import copy
import dataclasses
import multiprocessing
import queue
import secrets
import shutil
import sys
import tempfile
import threading
import types
from concurrent.futures import CancelledError, Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from mnistlib import config, datasets
from mnistlib.models import ModelSpec

ACTIVE = ("queued", "starting", "running")
ENDED = ("finished", "stopped", "failed")


@dataclasses.dataclass(frozen=True)
class TrainRequest:
    """What to train: a dataset, a model spec and a number of epochs."""

    dataset: str
    spec: ModelSpec
    epochs: int
    subset: str | None = None  # None: config.subset() of the process that submits
    name: str | None = None

    def __post_init__(self):
        datasets.info(self.dataset)
        if not isinstance(self.epochs, int) or not 1 <= self.epochs <= 200:
            raise ValueError("Epochs must be a whole number from 1 to 200.")
        if self.subset not in (None, *config.SUBSETS):
            raise ValueError(f"Subset must be one of {', '.join(config.SUBSETS)}.")

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "spec": self.spec.to_dict(), "epochs": self.epochs,
                "subset": self.subset or config.subset(), "name": self.name}


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
    history: list = dataclasses.field(default_factory=list)  # {epoch, loss, accuracy, val_loss, val_accuracy}
    test_loss: float | None = None
    test_accuracy: float | None = None
    model_id: str | None = None
    message: str = ""


class Job:
    """One training request and its state, updated from the worker's events."""

    def __init__(self, job_id: str, request: TrainRequest, stop_file: Path):
        self.id, self.request, self.stop_file = job_id, request, stop_file
        self.future = None
        self.latest_test_probabilities = None  # float16 (M, 10) after the last finished epoch
        self._state = JobState(epochs=request.epochs)
        self._position = lambda: 0  # set by the Trainer: jobs ahead of this one
        self._lock = threading.Lock()
        self._ended = threading.Event()

    def __repr__(self):
        return f"Job({self.id!r}, {self._state.status})"

    def snapshot(self) -> JobState:
        """A copy of the current state, safe to read while events keep arriving."""
        with self._lock:
            state = copy.deepcopy(self._state)
        if state.status == "queued":
            state.queue_position = self._position()
        return state

    def stop(self) -> None:
        """Stop at any moment: a queued job is dropped; a running one keeps its last finished epoch."""
        self.stop_file.touch()
        if self.future is not None and self.future.cancel():
            self.apply({"type": "stopped", "model_id": None, "epochs_done": 0, "history": []})

    def wait(self, timeout: float | None = None) -> JobState:
        """Block until the job has ended (or timeout seconds passed); returns the state."""
        self._ended.wait(timeout)
        return self.snapshot()

    def apply(self, event: dict) -> None:
        """Fold one event into the state (events after the end are ignored)."""
        with self._lock:
            state = self._state
            if state.status in ENDED:
                return
            kind = event["type"]
            if kind == "queued":
                state.queue_position = event.get("position", 0)
            elif kind == "started":
                state.status, state.queue_position = "starting", 0
            elif kind == "progress":
                state.status = "running"
                state.epoch, state.batch, state.batches = event["epoch"], event["batch"], event["batches"]
                state.elapsed_seconds = event["elapsed"]
                done = (event["epoch"] - 1) + event["batch"] / event["batches"]
                state.eta_seconds = state.elapsed_seconds * (state.epochs - done) / done if done else None
                state.progress.append({"step": round(done, 4), "epoch": event["epoch"],
                                       "loss": event["loss"], "accuracy": event["accuracy"]})
            elif kind == "epoch_end":
                self.latest_test_probabilities = event["test_probabilities"]
                state.history.append({key: event[key] for key in
                                      ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")})
            elif kind in ENDED:
                state.status = kind
                state.eta_seconds = None
                state.message = event.get("message", "")
                state.model_id = event.get("model_id")
                state.test_loss, state.test_accuracy = event.get("test_loss"), event.get("test_accuracy")
                if event.get("history") is not None and len(event["history"]) >= len(state.history):
                    state.history = event["history"]
        if event["type"] in ENDED:
            self._ended.set()


class Trainer:
    """Runs TrainRequests on an executor (by default a pool of warm worker processes), at most
    config.max_trainings() at once machine-wide; further jobs wait in the executor's queue."""

    def __init__(self, executor: Executor | None = None):
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []
        self._runtime = Path(tempfile.mkdtemp(prefix="mnistlib-jobs-"))
        self._injected = executor
        context = multiprocessing.get_context("spawn")
        # The default pool gets the queue at start-up (inherited); an injected executor gets a picklable proxy.
        self._manager = context.Manager() if executor is not None else None
        self._events = self._manager.Queue() if self._manager else context.Queue()
        self._context = context
        self._executor = executor or self._new_pool()
        self._closed = False
        threading.Thread(target=self._dispatch, daemon=True, name="mnistlib-events").start()

    def _new_pool(self) -> Executor:
        from mnistlib import worker

        pool = ProcessPoolExecutor(max_workers=config.max_trainings(), mp_context=self._context,
                                   initializer=worker.initialize, initargs=(self._events,))
        with _bare_main():
            pool.submit(worker.ping)  # start and warm a worker now, not when the first user clicks Train
        return pool

    def submit(self, request: TrainRequest) -> Job:
        """Queue a training; returns its Job at once."""
        job_id = secrets.token_hex(6)
        job = Job(job_id, request, self._runtime / f"{job_id}.stop")
        job._position = lambda: self.queue_position(job)
        with self._lock:
            self._jobs[job_id] = job
            self._order.append(job_id)
            self._start(job)
        job.apply({"type": "queued", "position": self.queue_position(job)})
        return job

    def _start(self, job: Job) -> None:
        """Hand a job to the executor (called with the lock held); a broken pool is replaced first."""
        from mnistlib import worker

        if self._injected is None and getattr(self._executor, "_broken", False):
            self._executor.shutdown(wait=False, cancel_futures=False)
            self._executor = self._new_pool()
        events = self._events if self._injected is not None else None
        with _bare_main():
            job.future = self._executor.submit(worker.run_job, job.id, job.request.to_dict(), str(job.stop_file),
                                               events)
        job.future.add_done_callback(lambda future, job=job: self._finished(job, future))

    def _finished(self, job: Job, future) -> None:
        """The task ended: its result is the final event; a crashed worker becomes a failed event."""
        try:
            job.apply(future.result())
        except CancelledError:
            job.apply({"type": "stopped", "model_id": None, "epochs_done": 0, "history": []})
        except BrokenProcessPool:
            self._recover(job)
        except Exception as error:  # noqa: BLE001 — whatever happened, the user gets a message, not a hang
            job.apply({"type": "failed", "message": f"Training failed: {type(error).__name__}: {error}"})

    def _recover(self, job: Job) -> None:
        """A worker process died: fail the job it was running, requeue the ones that never started."""
        if job.snapshot().status != "queued" or self._injected is not None or self._closed:
            job.apply({"type": "failed", "message": "The training process stopped unexpectedly (it may have "
                       "run out of memory). Try a smaller model or batch size."})
            return
        with self._lock:
            self._start(job)

    def _dispatch(self) -> None:
        """Route events from the workers to their jobs."""
        while not self._closed:
            try:
                event = self._events.get(timeout=0.5)
            except (queue.Empty, EOFError, OSError):
                continue
            job = self._jobs.get(event.get("job"))
            if job is not None:
                job.apply(event)

    def job(self, job_id: str) -> Job | None:
        """A job of this trainer by id (e.g. from a URL after the tab was closed), or None."""
        return self._jobs.get(job_id) if isinstance(job_id, str) else None

    def queue_position(self, job: Job) -> int:
        """How many jobs were submitted earlier and are still waiting to start."""
        with self._lock:
            earlier = self._order[: self._order.index(job.id)]
        return sum(1 for other in earlier if self._jobs[other]._state.status == "queued")

    def shutdown(self) -> None:
        """Stop every job and end the worker processes (nothing is left behind, not even a zombie)."""
        if self._closed:
            return
        for job in list(self._jobs.values()):
            if job.snapshot().status in ACTIVE:
                job.stop()
        processes = list(getattr(self._executor, "_processes", {}).values())
        # Don't wait inside the executor: the event dispatcher keeps draining the queue meanwhile, so no
        # worker can block on exit with events still unsent; join with a deadline, then kill.
        self._executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
                process.join()
        self._closed = True
        if self._manager is not None:
            self._manager.shutdown()
        shutil.rmtree(self._runtime, ignore_errors=True)


_main_lock = threading.Lock()


@contextlib.contextmanager
def _bare_main():
    """Start processes with a bare __main__ module.

    A spawned process first re-imports its parent's __main__. Inside Streamlit that is the page script
    being run, which must never run again inside a training worker; from pytest or a notebook it is
    just as unwanted. The pool starts processes inside submit(), so submit() runs under this.
    """
    with _main_lock:
        original = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = original


_trainer: Trainer | None = None
_trainer_lock = threading.Lock()


def get_trainer() -> Trainer:
    """The process's one Trainer (created on first use, shut down at exit)."""
    global _trainer
    with _trainer_lock:
        if _trainer is None or _trainer._closed:
            _trainer = Trainer()
            atexit.register(_trainer.shutdown)
        return _trainer
