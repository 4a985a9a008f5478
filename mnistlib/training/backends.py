"""Where trainings run: this machine's process pool (the default) or a Dask cluster (MNISTLIB_SCHEDULER).

A backend has `submit(job_id, request_dict) -> concurrent.futures.Future` (result: an events.Outcome),
`stop(job_id)`, `events` (a thread-safe queue.Queue of event messages, see events.py), `crashed(error)`
(did the process or machine running the task die?), `crashed_message`, `description` and `shutdown()`.
"""

import os


class ClusterUnavailable(RuntimeError):
    """MNISTLIB_SCHEDULER names a cluster that cannot be reached (nothing is trained elsewhere instead)."""


def scheduler_address() -> str | None:
    """The Dask scheduler to train on ($MNISTLIB_SCHEDULER, e.g. tcp://10.0.0.5:8786), or None for this machine."""
    return (os.environ.get("MNISTLIB_SCHEDULER") or "").strip() or None


def from_environment():
    """The backend the environment asks for: a Dask cluster when MNISTLIB_SCHEDULER is set, else local processes.
    ClusterUnavailable when the scheduler cannot be reached — never a silent fallback to this machine."""
    address = scheduler_address()
    if address is None:
        from mnistlib.training.local_pool import LocalPool

        return LocalPool()
    from mnistlib.training.dask_cluster import DaskCluster

    return DaskCluster(address)
