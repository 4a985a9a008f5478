"""What every training backend is (the local process pool and the Dask cluster implement it; backends.py picks one).

A backend has `submit(job_id, request_dict, arrays=None, parent=None) -> concurrent.futures.Future` (result: an
events.Outcome; parent: the model a continuation starts from, continuing.parent_of), `stop(job_id)`,
`control(job_id, word)` (Pause/Resume/Step, pausing.py), `events` (a thread-safe queue.Queue of event messages, see events.py), `crashed(error)`
(did the process or machine running the task die?), `crashed_message`, `description` and `shutdown()`.
"""

import os
import queue
from concurrent.futures import Future
from typing import Protocol


class ClusterUnavailable(RuntimeError):
    """MNISTLIB_SCHEDULER names a cluster that cannot be reached (nothing is trained elsewhere instead)."""


class Backend(Protocol):
    """The interface the Trainer uses (see the module's docstring)."""

    events: queue.Queue
    description: str
    crashed_message: str

    def submit(self, job_id: str, request: dict, arrays=None, parent=None) -> Future: ...

    def stop(self, job_id: str) -> None: ...

    def control(self, job_id: str, word: str) -> None: ...

    def crashed(self, error: BaseException) -> bool: ...

    def shutdown(self) -> None: ...


def scheduler_address() -> str | None:
    """The Dask scheduler to train on ($MNISTLIB_SCHEDULER, e.g. tcp://10.0.0.5:8786), or None for this machine."""
    return (os.environ.get("MNISTLIB_SCHEDULER") or "").strip() or None
