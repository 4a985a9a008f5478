"""What a Dask worker runs for one training, and the names both sides use for a job's markers on the scheduler.

Events go to the server on TOPIC (the worker's log_event); Stop arrives as the job's Dask Event, Pause/Resume/Step
as its word (pausing.py) in a Dask Variable, read every STOP_POLL_SECONDS by a thread of the task; a re-run of a
task whose worker died finds the first run's "started" marker and reports the loss instead of training again.
"""

import contextlib
import socket
import threading

import distributed

from mnistlib.training import events, pausing, worker

TOPIC = "mnistlib-training"  # the Dask event topic carrying events.to_message() dicts
STOP_POLL_SECONDS = 0.5  # a worker's longest wait on a job's stop Event between checks that the job still runs
# One training at a time in a worker process that offers no `training` resource: Keras's seeds and state are global.
_ONE_TRAINING = threading.Lock()


def stop_event_name(job_id: str) -> str:
    return f"mnistlib-stop-{job_id}"


def control_name(job_id: str) -> str:
    return f"mnistlib-control-{job_id}"


def set_word(client, job_id: str, word: str) -> None:
    """The server sets a job's Pause/Resume/Step word (pausing.py) where its task reads it."""
    with contextlib.suppress(Exception):
        distributed.Variable(control_name(job_id), client=client).set(word)


def _watch_word(variable, word: list, finished: threading.Event) -> None:
    """Keep word[0] the job's latest Pause/Step word, so the training reads it without asking the scheduler."""
    while not finished.wait(STOP_POLL_SECONDS):
        with contextlib.suppress(Exception):  # not set yet (TimeoutError), or the scheduler gone (Stop handles it)
            value = variable.get(timeout=STOP_POLL_SECONDS)
            word[0] = value if pausing.is_word(value) else pausing.RUN


def started_name(job_id: str, attempt: int) -> str:
    return f"mnistlib-started-{job_id}-{attempt}"


def offers_training(worker_info: dict) -> bool:
    """Does a worker (as in Client.scheduler_info()["workers"]) offer the `training` resource?"""
    return worker_info.get("resources", {}).get("training", 0) > 0


def worker_left(where: str) -> str:
    """What a student reads when the worker training their job left the cluster (where: as in events.Started)."""
    return (f"{where[:1].upper()}{where[1:]} left the cluster during this training (switched off, disconnected or out "
            "of memory), so the training was lost and nothing was saved. Train again: the same settings and seed give "
            "the same model; if it happens again, try a smaller model.")


def forget_markers(marker: str, client, job_id: str | None = None) -> None:
    """Remove a task's "started" Event and Variable from the scheduler, and its job's stop Event when job_id is given."""
    with contextlib.suppress(Exception):
        distributed.Event(marker, client=client).clear()
        distributed.Variable(marker, client=client).delete()
        if job_id is not None:
            distributed.Event(stop_event_name(job_id), client=client).clear()
            distributed.Variable(control_name(job_id), client=client).delete()


def _watch_stop(stop_event, requested: threading.Event, finished: threading.Event) -> None:
    """Turn the job's Dask Event into a local flag, polled by the training between chunks of steps."""
    while not finished.is_set():
        try:
            if stop_event.wait(timeout=STOP_POLL_SECONDS):
                requested.set()
                return
        except Exception:  # noqa: BLE001 — the scheduler is gone: nobody can receive the result, so stop
            requested.set()
            return


def run_task(job_id: str, request: dict, attempt: int, arrays=None, exclusive: bool = False,
             parent=None) -> events.Outcome:
    """The task a Dask worker runs: train (events on TOPIC, Stop from the job's Dask Event) and return the Outcome.
    exclusive: the worker offers no `training` resource, so the task first takes the process's own lock."""
    if exclusive:
        with _ONE_TRAINING:
            return _run_task(job_id, request, attempt, arrays, parent)
    return _run_task(job_id, request, attempt, arrays, parent)


def _run_task(job_id: str, request: dict, attempt: int, arrays, parent) -> events.Outcome:
    dask_worker = distributed.get_worker()
    client = distributed.get_client()
    where = f"the Dask worker {dask_worker.address} ({socket.gethostname()})"
    marker = started_name(job_id, attempt)
    # Two markers: an Event to ask "did a first run start?" without an error on the scheduler, a Variable for where.
    started, started_where = distributed.Event(marker, client=client), distributed.Variable(marker, client)
    stop_event = distributed.Event(stop_event_name(job_id), client=client)
    if started.is_set():  # the scheduler re-runs a task whose worker died: report the loss, don't retrain
        previous = "the machine training it"
        with contextlib.suppress(Exception):
            previous = str(started_where.get(timeout=5))
        forget_markers(marker, client)
        return events.failed(worker_left(previous))
    started_where.set(where)
    started.set()
    requested, finished = threading.Event(), threading.Event()
    threading.Thread(target=_watch_stop, args=(stop_event, requested, finished), daemon=True,
                     name=f"mnistlib-stop-{job_id}").start()
    word = [pausing.RUN]
    threading.Thread(target=_watch_word, args=(distributed.Variable(control_name(job_id), client), word, finished),
                     daemon=True, name=f"mnistlib-control-{job_id}").start()

    def emit(event) -> None:
        dask_worker.log_event(TOPIC, events.to_message(event))

    try:
        outcome = worker.train(job_id, request, emit, requested.is_set, where=where, arrays=arrays,
                               read_word=lambda: word[0], parent=parent)
        if outcome.kind == "Failed" and outcome.message.startswith("Training failed"):
            outcome.message = f"{outcome.message} (on {where}: the fix may be needed on that machine)"
        return outcome
    finally:
        finished.set()
        forget_markers(marker, client, job_id)
