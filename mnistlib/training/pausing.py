"""Pause, Resume and Step: the word the server sets for a job, and the gate through which the training obeys it.

The server keeps one control word per job where the training can read it — a file beside the job's stop file
(local processes, `write_word`/`read_word`), a Dask Variable (a cluster, dask_task.py):

    RUN        train on (no word at all means the same)
    PAUSE      hold still: the model stays in the worker's memory, and the worker keeps its training slot
    step-N     go on to the end of the epoch in progress (a whole epoch when paused between epochs), then hold
               still again; N counts the Step clicks, so each one is obeyed once
    release    let the queue go on: at an epoch boundary (held there, or after training on to the end of the epoch
               in progress) stop, so the server stores the model of that boundary — weights and optimizer state,
               all a continuation needs to go on bit for bit — and the worker takes the next training (releasing.py)

The training reads the word where it checks Stop, before every chunk of steps (`PauseGate` wraps should_stop):
paused, it reports Paused and sleeps in POLL_SECONDS naps — no CPU burnt — until the word changes or Stop is asked
(Stop works while paused: the model of the last finished epoch is kept, as always).
"""

import time
from pathlib import Path

from mnistlib import atomic_file
from mnistlib.training import events

RUN, PAUSE, RELEASE, STEP_PREFIX = "run", "pause", "release", "step-"
POLL_SECONDS = 0.2  # how often a paused training looks at its word again (and at Stop)


def step_word(count: int) -> str:
    """The word of the count-th Step click of a job."""
    return f"{STEP_PREFIX}{count}"


def is_word(text) -> bool:
    return text in (RUN, PAUSE, RELEASE) or (isinstance(text, str) and text.startswith(STEP_PREFIX)
                                    and text[len(STEP_PREFIX):].isdigit())


def write_word(path: Path, word: str) -> None:
    """Set a local job's word (replaced whole: the training never reads half of it)."""
    if not is_word(word):
        raise ValueError(f"Not a control word: {word!r}")
    with atomic_file.replacing(path, "w") as file:
        file.write(word)


def read_word(path: str) -> str:
    """A local job's word; RUN when there is none (or it cannot be read)."""
    try:
        with open(path) as file:
            word = file.read().strip()
    except OSError:
        return RUN
    return word if is_word(word) else RUN


class PauseGate:
    """Wraps should_stop: called before every chunk of steps, it also holds the training while its word says so.

    read() gives the job's current word; emit(event) reports Paused and Resumed. The worker tells the gate where
    the training is (progress, epoch_ended), so Paused says where it holds and Step knows when its epoch is done.
    paused_seconds is the time spent held, which the worker leaves out of the training's elapsed time."""

    def __init__(self, job_id: str, read, should_stop, emit):
        self.job_id, self._read, self._should_stop, self._emit = job_id, read, should_stop, emit
        self.paused_seconds = 0.0
        self._step = None  # the step word being obeyed: hold at the next epoch boundary
        self._obeyed = set()  # step words already obeyed (each Step click pauses once)
        self._at_boundary = True  # before the first epoch is a boundary too
        self._where = (0, 0, 0)  # (epoch, batch, batches) of the last progress

    def __repr__(self):
        return f"PauseGate({self.job_id!r}, paused {self.paused_seconds:.1f} s)"

    def progress(self, epoch: int, batch: int, batches: int) -> None:
        self._where = (epoch, batch, batches)

    def epoch_ended(self, epoch: int) -> None:
        self._where, self._at_boundary = (epoch, self._where[2], self._where[2]), True

    def __call__(self) -> bool:
        """True when the training must stop (now, or after being held until Stop was asked)."""
        if self._should_stop():
            return True
        word = self._read()
        at_boundary, self._at_boundary = self._at_boundary, False
        if word == RELEASE:
            return at_boundary  # stop at the next epoch boundary: the model there is whole
        if self._step is not None and word != self._step:
            self._step = None  # Resume, Pause or a newer Step replaced the one being obeyed
        if self._step is not None:
            if not at_boundary:
                return False
            self._obeyed.add(self._step)
            self._step = None
            return self._hold(at_boundary=True)
        if word == PAUSE or word in self._obeyed:
            return self._hold(at_boundary)
        if word.startswith(STEP_PREFIX):
            self._step = word  # train to the end of this epoch, then hold
        return False

    def _hold(self, at_boundary: bool) -> bool:
        """Report Paused and sleep until the word lets go (Resumed) or Stop is asked (True); Let the queue go on
        stops here at a boundary (True), else trains on to the end of the epoch (Resumed)."""
        self._emit(events.Paused(self.job_id, *self._where))
        started = time.monotonic()
        try:
            while True:
                if self._should_stop():
                    return True
                word = self._read()
                if word == RELEASE and at_boundary:
                    return True
                if word != PAUSE and word not in self._obeyed:
                    if word.startswith(STEP_PREFIX):
                        self._step = word
                    self._emit(events.Resumed(self.job_id))
                    return False
                time.sleep(POLL_SECONDS)
        finally:
            self.paused_seconds += time.monotonic() - started

