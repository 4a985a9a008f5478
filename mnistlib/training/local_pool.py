"""The default backend: a pool of warm worker processes on this machine.

Why processes: inside a Streamlit server a training thread ran 12x slower, because Streamlit calls
keras.backend.clear_session() and gc.collect(2) after every script run; a worker process trains at full
speed. At most config.max_trainings() trainings run at once on the machine — across every process that
trains here (the server and the CLI) — through slot files locked with flock; Stop is a file per job, and so is
its Pause/Step word (pausing.py).
"""

import contextlib
import fcntl
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import types
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from mnistlib import config
from mnistlib.training import events, pausing, worker

# Set by initialize() in each worker process: where events go (a multiprocessing queue).
_events = None


def initialize(event_queue) -> None:
    """Pool initializer: remember the event queue, exit with the parent, import TensorFlow and warm it up."""
    global _events
    _events = event_queue
    event_queue.cancel_join_thread()  # never hang at exit flushing events nobody will read
    parent = os.getppid()

    def exit_when_orphaned():
        # A worker whose server died (even by SIGKILL) must not live on as an orphan.
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=exit_when_orphaned, daemon=True, name="orphan-watch").start()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    worker.warm_up()


def ping() -> int:
    """A no-op task: submitting it makes the pool start (and warm) a worker ahead of the first job."""
    return os.getpid()


@contextlib.contextmanager
def training_slot(locks_dir: Path, slots: int, should_stop):
    """Hold one of `slots` machine-wide slot files (flock) for the duration of a training; None if stopped first."""
    locks_dir.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(slots):
            handle = open(locks_dir / f"slot-{slot}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield slot
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        if should_stop():
            yield None
            return
        time.sleep(0.2)


def run_task(job_id: str, request: dict, stop_file: str, control_file: str = "", parent=None) -> events.Outcome:
    """The task a worker process runs: wait for a machine-wide slot, then train; events go to the queue. Pause and
    Step come as a word in control_file (pausing.py): a paused training keeps its slot."""
    def emit(event) -> None:
        _events.put(events.to_message(event))

    def should_stop() -> bool:
        return os.path.exists(stop_file)

    with training_slot(config.models_dir() / ".locks", config.max_trainings(), should_stop) as slot:
        if slot is None:
            return events.Outcome("Stopped")
        return worker.train(job_id, request, emit, should_stop, where=f"this machine ({worker.process_name()})",
                            read_word=lambda: pausing.read_word(control_file), parent=parent)


class LocalPool:
    """Trainings in warm worker processes on this machine; more than config.max_trainings() wait in a queue."""

    crashed_message = ("The training process stopped unexpectedly (it may have run out of memory). "
                       "Try a smaller model or batch size.")

    def __init__(self, max_workers: int | None = None):
        self._context = multiprocessing.get_context("spawn")
        self._max_workers = max_workers or config.max_trainings()
        self._wire = self._context.Queue()
        self.events: queue.Queue = queue.Queue()  # event messages for the trainer, thread-safe
        self._runtime = Path(tempfile.mkdtemp(prefix="mnistlib-jobs-"))
        self._closed = False
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        threading.Thread(target=self._relay, daemon=True, name="mnistlib-local-events").start()

    def __repr__(self):
        return f"LocalPool({self._max_workers} at once)"

    @property
    def description(self) -> str:
        return f"this machine ({self._max_workers} training(s) at once)"

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self._max_workers, mp_context=self._context, initializer=initialize,
                                   initargs=(self._wire,))
        with bare_main():
            pool.submit(ping)  # start and warm a worker now, not when the first user clicks Train
        return pool

    def _relay(self) -> None:
        """Move event messages from the processes' queue to the trainer's thread-safe queue."""
        while not self._closed:
            try:
                self.events.put(self._wire.get(timeout=0.5))
            except (queue.Empty, EOFError, OSError):
                continue

    def submit(self, job_id: str, request: dict, arrays=None, parent=None) -> Future:
        """Start a training; the Future's result is its Outcome (BrokenProcessPool if its process died)."""
        with self._lock:
            if getattr(self._pool, "_broken", False):  # a crashed worker broke the pool: start a new one
                self._pool.shutdown(wait=False, cancel_futures=False)
                self._pool = self._new_pool()
            with bare_main():
                return self._pool.submit(run_task, job_id, request, str(self._runtime / f"{job_id}.stop"),
                                         str(self._runtime / f"{job_id}.pause"), parent)

    def stop(self, job_id: str) -> None:
        (self._runtime / f"{job_id}.stop").touch()

    def control(self, job_id: str, word: str) -> None:
        """Give a job its Pause/Resume/Step word (pausing.py), read by its training before every chunk of steps."""
        pausing.write_word(self._runtime / f"{job_id}.pause", word)

    def crashed(self, error: BaseException) -> bool:
        """True when error means the process running the task died (not that the training failed)."""
        return isinstance(error, BrokenProcessPool)

    def processes(self) -> list:
        return list(getattr(self._pool, "_processes", {}).values())

    def shutdown(self) -> None:
        """End the worker processes (nothing is left behind, not even a zombie)."""
        processes = self.processes()
        manager = getattr(self._pool, "_executor_manager_thread", None)
        # Don't wait inside shutdown(): the relay keeps draining the queue meanwhile, so no worker can block on
        # exit with events still unsent. The executor's own thread joins (reaps) the processes; joining them
        # here as well would race it for each exit status (the loser's waitpid gets ECHILD and its Process
        # object says "alive" until the winner records the code). So wait for that thread, with a deadline,
        # then kill what is left and wait for the thread to reap it.
        self._pool.shutdown(wait=False, cancel_futures=True)
        if manager is not None:
            manager.join(timeout=15)
        if manager is None or manager.is_alive():
            for process in processes:
                process.kill()  # a no-op for one already ended
            if manager is not None:
                manager.join(timeout=30)
        for process in processes:
            process.join()
        self._closed = True
        shutil.rmtree(self._runtime, ignore_errors=True)


_main_lock = threading.Lock()


@contextlib.contextmanager
def bare_main():
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
