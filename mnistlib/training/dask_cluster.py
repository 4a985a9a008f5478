"""Trainings on a Dask cluster (MNISTLIB_SCHEDULER=tcp://host:8786) instead of this machine's processes.

Tasks go through the client's concurrent.futures executor, one per training. When a worker offers the `training`
resource (`dask worker … --resources training=1`) each task needs one unit of it: that resource is the limit. A
cluster started the ordinary way (`LocalCluster()`, `dask worker` without flags) is used as it is: each task then
holds its worker process's own lock, so one worker trains one model at a time (Keras's seeds are per process). Events
travel on Dask's own channel (the worker's `log_event`, the client's `subscribe_topic`); Stop is a Dask Event
per job, Pause/Step a Dask Variable (dask_task.py). The worker loads the data itself and returns the model's bytes: the server writes the store.

A worker that dies mid-training fails its job with a message, deliberately not retried (a death is often a model
too big for the machine's memory, which would take down a second machine too): the server sees the worker gone
from the scheduler, and should the scheduler re-run the task first, the re-run finds the "started" marker of the
first run and reports the loss instead of training again. Jobs no worker can take fail after NO_WORKER_SECONDS.
"""

import contextlib
import dataclasses
import itertools
import queue
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor

import distributed
from distributed.comm.core import CommClosedError

from mnistlib.training import backend_interface, events, pausing
from mnistlib.training.dask_task import (
    TOPIC,
    forget_markers,
    offers_training,
    run_task,
    set_word,
    started_name,
    stop_event_name,
    worker_left,
)

RESOURCES = {"training": 1}  # each training holds one unit of a worker's `training` resource
CONNECT_SECONDS = 10  # how long to try reaching the scheduler (and to reconnect to it) before giving up
NO_WORKER_SECONDS = 30  # how long jobs wait while no worker can take them before they fail
CLEANUP_SECONDS = 30  # a stopped or lost job's Dask Event and Variable are removed this long after it ended
KEEP_DATASETS = 4  # datasets sent to the cluster and kept there for the next job


@dataclasses.dataclass(eq=False)
class _Submission:
    """One task of a job: the Future the Trainer holds (outer) and the executor's (inner)."""

    job_id: str
    attempt: int
    outer: Future
    inner: Future | None = None
    running: bool = False
    where: str = ""  # from its Started event: "the Dask worker tcp://… (host)"
    needs_training: bool = True  # sent asking for the `training` resource (else to any worker, under its lock)

    def mark_running(self) -> None:
        """The task began training: from now on only the stop Event stops it (cancel() returns False)."""
        if not self.running:
            self.running = True
            with contextlib.suppress(RuntimeError, InvalidStateError):
                self.outer.set_running_or_notify_cancel()


class DaskCluster:
    """Trainings on the workers of a Dask cluster: those offering the `training` resource, else any worker."""

    needs_arrays = True  # its workers cannot read the server's disk: a class's own dataset is sent with the task
    crashed_message = ("The machine training this left the Dask cluster during the training (switched off, "
                       "disconnected or out of memory), so nothing was saved. Train again: the same settings and seed "
                       "give the same model.")

    def __init__(self, address: str, connect_seconds: float = CONNECT_SECONDS,
                 no_worker_seconds: float = NO_WORKER_SECONDS):
        self.address = address
        self.events: queue.Queue = queue.Queue()  # event messages for the trainer, thread-safe
        self._connect_seconds, self._no_worker_seconds = connect_seconds, no_worker_seconds
        self._lock = threading.RLock()
        self._submissions: dict[str, _Submission] = {}  # job id -> its latest task
        self._attempts = itertools.count(1)  # numbers every task, so a job submitted again gets a new Dask key
        self._cleanups: list[tuple[float, _Submission]] = []
        self._datasets: OrderedDict = OrderedDict()  # checksum -> Dask future of the arrays on the cluster
        self._closed = threading.Event()
        self._client = None
        self._connect()
        self._control = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mnistlib-dask-control")
        threading.Thread(target=self._watch, daemon=True, name="mnistlib-dask-watch").start()

    def __repr__(self):
        return f"DaskCluster({self.address!r})"

    def _connect(self) -> None:
        """Connect (or reconnect) to the scheduler; ClusterUnavailable in one sentence if it does not answer."""
        problem = None
        try:
            client = distributed.Client(self.address, timeout=self._connect_seconds, set_as_default=False,
                                        name="mnistlib")
        except (OSError, TimeoutError, ValueError) as error:
            problem = str(error) or error.__class__.__name__
        if problem is not None:  # raised here, not in the except: the half-made client is freed now, not at exit
            raise backend_interface.ClusterUnavailable(
                f"The Dask scheduler at {self.address} cannot be reached ({problem[:1].lower()}{problem[1:]}), so "
                "nothing was trained. Start it with `dask scheduler` on that machine, or unset MNISTLIB_SCHEDULER to "
                "train on this machine.")
        client.subscribe_topic(TOPIC, self._on_event)
        self._client, self._subscribed = client, client.scheduler_comm
        self._executor = client.get_executor(pure=False)

    @property
    def description(self) -> str:
        try:
            workers = self._client.scheduler_info(n_workers=-1).get("workers", {}).values()
        except Exception:  # noqa: BLE001
            return f"the Dask cluster at {self.address} (not answering)"
        workers = list(workers)
        count = sum(1 for info in workers if offers_training(info))
        if count:
            return f"the Dask cluster at {self.address}: {count} worker{'s' if count != 1 else ''} offering training"
        count = len(workers)
        return (f"the Dask cluster at {self.address}: {count} worker{'s' if count != 1 else ''}, "
                "one training at a time on each")

    def _any_offers_training(self) -> bool:
        """Does a worker offer the `training` resource now? (None of them: the cluster is used as it is.)"""
        workers = self._client.scheduler_info(n_workers=-1).get("workers", {}).values()
        return any(offers_training(info) for info in workers)

    # ## Submitting and stopping

    def submit(self, job_id: str, request: dict, arrays=None, parent=None) -> Future:
        """Start a training on the cluster; the Future's result is its Outcome. Never raises: a cluster that cannot
        take it gives a Failed outcome saying why."""
        with self._lock:
            attempt = next(self._attempts)
            submission = self._submissions[job_id] = _Submission(job_id, attempt, Future())
        try:
            self._ensure_connected()
            extra = () if arrays is None else (self._on_cluster(arrays),)
            submission.needs_training = self._any_offers_training()
            set_word(self._client, job_id, pausing.RUN)  # set before the task reads it (an unset Variable's get fails)
            submission.inner = self._executor.submit(
                run_task, job_id, request, attempt, *extra, key=f"mnistlib-train-{job_id}-{attempt}",
                resources=RESOURCES if submission.needs_training else None,
                exclusive=not submission.needs_training, parent=parent)
        except Exception as error:  # noqa: BLE001 — a job that cannot be sent fails with the reason, never hangs
            with self._lock:
                if self._submissions.get(job_id) is submission:
                    del self._submissions[job_id]
            # a ConnectionError or ClusterUnavailable is already a full sentence
            known = isinstance(error, ConnectionError | backend_interface.ClusterUnavailable)
            submission.outer.set_result(events.failed(str(error) if known else (
                f"The training could not be sent to {self.address} ({error}), so nothing was trained. Try again; if "
                "it keeps failing, tell your teacher.")))
            return submission.outer
        submission.outer.add_done_callback(lambda outer: self._ended(submission))
        submission.inner.add_done_callback(lambda inner: self._settle(submission))
        return submission.outer

    def _ensure_connected(self) -> None:
        if self._client.status == "running":
            if self._client.scheduler_comm is not self._subscribed:  # the client reconnected: subscribe again
                self._client.subscribe_topic(TOPIC, self._on_event)
                self._subscribed = self._client.scheduler_comm
            return
        if self._client.status in ("connecting", "newly-created"):
            raise ConnectionError(f"The connection to the Dask scheduler at {self.address} was lost and is being "
                                  "restored, so nothing was trained: train again in a moment.")
        with self._lock:
            if self._client.status != "running":
                with contextlib.suppress(Exception):
                    self._client.close(timeout=2)
                self._datasets.clear()
                self._connect()

    def _on_cluster(self, arrays: dict):
        """A Dask future of a dataset's arrays on the cluster, sent once per checksum (then fetched by workers)."""
        checksum = arrays.get("checksum")
        with self._lock:
            if checksum is not None and checksum in self._datasets:
                self._datasets.move_to_end(checksum)
                return self._datasets[checksum]
            [future] = self._client.scatter([arrays], broadcast=False, hash=False)
            if checksum is not None:
                self._datasets[checksum] = future
                while len(self._datasets) > KEEP_DATASETS:
                    self._datasets.popitem(last=False)
            return future

    def stop(self, job_id: str) -> None:
        """Ask the job's task to stop (a Dask Event it watches); returns at once."""
        if self._closed.is_set():
            return
        with contextlib.suppress(RuntimeError):  # shutting down
            self._control.submit(self._set_stop_event, job_id)

    def control(self, job_id: str, word: str) -> None:
        """Set the job's Pause/Resume/Step word (a Dask Variable its task watches); returns at once."""
        if not self._closed.is_set():
            with contextlib.suppress(RuntimeError):  # shutting down
                self._control.submit(set_word, self._client, job_id, word)

    def _set_stop_event(self, job_id: str) -> None:
        with contextlib.suppress(Exception):
            distributed.Event(stop_event_name(job_id), client=self._client).set()

    # ## What comes back

    def _on_event(self, event) -> None:
        """Runs on the client's event loop for each (timestamp, message) on TOPIC: hand it over, nothing slow."""
        _, message = event
        self.events.put(message)
        if isinstance(message, dict) and message.get("kind") == "Started":
            submission = self._submissions.get(message.get("job"))
            if submission is not None:
                submission.where = str(message.get("where", ""))
                submission.mark_running()

    def _settle(self, submission: _Submission) -> None:
        """Pass the task's result on; a task cancelled by a lost scheduler becomes a Failed outcome saying so."""
        inner, outer = submission.inner, submission.outer
        if outer.done():
            return
        with contextlib.suppress(InvalidStateError, RuntimeError):
            if inner.cancelled():
                if self._closed.is_set():
                    if not outer.cancel():  # it was running: say why it ends
                        outer.set_result(events.failed("The server closed its connection to the Dask cluster during "
                                                       "this training, so nothing was saved."))
                elif self._client.status != "running":
                    outer.set_result(events.failed(
                        f"The connection to the Dask scheduler at {self.address} was lost during this training, so "
                        "nothing was saved. Train again once the scheduler runs."))
                else:
                    outer.set_result(events.failed(f"The Dask cluster at {self.address} cancelled this training "
                                                   "(was it restarted?), so nothing was saved. Train again."))
            elif inner.exception() is not None:
                outer.set_exception(inner.exception())
            else:
                outer.set_result(inner.result())

    def _ended(self, submission: _Submission) -> None:
        if submission.outer.cancelled() and submission.inner is not None:
            submission.inner.cancel()  # never started: the scheduler drops the task
        with self._lock:
            self._cleanups.append((time.monotonic() + CLEANUP_SECONDS, submission))

    def _watch(self) -> None:
        """Every 2 s: fail jobs whose worker left or that no worker can take; tidy the markers of ended jobs."""
        since = None  # when the cluster was first seen without a worker that can take the waiting jobs
        while not self._closed.wait(2.0):
            with self._lock:  # where before the workers: a worker that reported Started was in the list before
                waiting = [(item, item.where) for item in self._submissions.values()
                           if not item.outer.done() and item.inner is not None]
                due = [item for deadline, item in self._cleanups if deadline <= time.monotonic()]
                self._cleanups = [(deadline, item) for deadline, item in self._cleanups if item not in due]
            for submission in due:
                self._forget(submission)
            try:
                workers = self._client.scheduler_info(n_workers=-1).get("workers", {}) if waiting else {}
            except Exception:  # noqa: BLE001 — a lost scheduler fails the jobs through their futures
                continue
            for submission, where in waiting:
                address = re.search(r"Dask worker (\S+)", where)
                if address and address.group(1) not in workers:  # its worker left: no need to wait for a re-run
                    self._fail(submission, worker_left(where))
            needs_training = any(submission.needs_training for submission, _ in waiting)
            if not waiting or any(offers_training(info) or not needs_training for info in workers.values()):
                since = None
            elif since is None:
                since = time.monotonic()
            elif time.monotonic() - since >= self._no_worker_seconds:
                message = (f"No worker of the Dask cluster at {self.address} offers training, so this training "
                           f"could not start. Start one with `dask worker {self.address} --nthreads 1` (add "
                           "`--resources training=1` to match the other workers if they have it), then train again.")
                for submission, _ in waiting:
                    self._fail(submission, message)

    @staticmethod
    def _fail(submission: _Submission, message: str) -> None:
        """End a job as failed with message, and drop its task from the cluster."""
        with contextlib.suppress(InvalidStateError, RuntimeError):
            submission.outer.set_result(events.failed(message))
        if submission.inner is not None:
            submission.inner.cancel()

    def _forget(self, submission: _Submission) -> None:
        """Remove an ended job's Dask Event and Variable from the scheduler (unless a newer task of the job runs)."""
        with self._lock:
            if self._submissions.get(submission.job_id) is submission:
                del self._submissions[submission.job_id]
            newer = submission.job_id in self._submissions
        if self._client.status == "running":
            forget_markers(started_name(submission.job_id, submission.attempt), self._client,
                           None if newer else submission.job_id)

    def crashed(self, error: BaseException) -> bool:
        """True when error means the worker running the task died (not that the training failed)."""
        return isinstance(error, (distributed.KilledWorker, CommClosedError))

    def shutdown(self) -> None:
        """Send the pending stops, then close this client (never the cluster: it belongs to whoever started it)."""
        self._control.shutdown(wait=True)
        self._closed.set()
        with contextlib.suppress(Exception):
            self._client.close(timeout=5)
